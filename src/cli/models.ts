/** `perdiem models`: the models the gateway serves, with their prices; `perdiem models measurements`: their compute. */
import { noArguments } from './amounts.ts';
import type { Command } from './command.ts';
import { gatewayOptions, gatewayUsage, openGateway, operatorOptions, operatorUsage } from './gatewayClient.ts';
import { showMeasurements } from './measurements.ts';
import { jsonText, table } from './output.ts';

interface Price {
  usd: number;
}

interface ModelView {
  id: string;
  type: string;
  owned_by: string;
  model_spec: {
    availableContextTokens: number | null;
    pricing: {
      input?: Price;
      output?: Price;
      generation?: Price;
      unit: string;
    } | null;
  };
}

function usd(price: Price | undefined): string {
  return price === undefined ? '-' : `$${price.usd}`;
}

function priceCells(pricing: ModelView['model_spec']['pricing']): [string, string, string] {
  if (pricing === null) return ['no price', '', ''];
  const unit = pricing.unit.replaceAll('_', ' ').replace(' 1m ', ' 1M ');
  if (pricing.unit === 'per_image') return [usd(pricing.generation), '-', unit];
  return [usd(pricing.input), usd(pricing.output), unit];
}

export const modelsCommand: Command = {
  summary: 'the models the gateway serves, with prices',
  usage: [
    'usage: perdiem models [options]',
    '       perdiem models measurements [operator options]',
    '',
    gatewayUsage,
    '',
    'measurements: engine-seconds per token, samples and CU per 1M tokens per (model, provider), as measured from',
    'traffic (operator token):',
    operatorUsage,
  ].join('\n'),
  options: { ...gatewayOptions, ...operatorOptions },
  async run(values, positionals, io) {
    if (positionals[0] === 'measurements') {
      noArguments(positionals.slice(1));
      return await showMeasurements(values, io);
    }
    noArguments(positionals);
    const models = (
      (await openGateway(values, io, 'api-key').request('GET', '/v1/models')).body as {
        data: ModelView[];
      }
    ).data;
    if (values.json) {
      io.out(jsonText(models));
      return 0;
    }
    const rows = models.map((model) => [
      model.id,
      model.type,
      model.model_spec.availableContextTokens === null ? '-' : String(model.model_spec.availableContextTokens),
      ...priceCells(model.model_spec.pricing),
    ]);
    io.out(table(['MODEL', 'TYPE', 'CONTEXT', 'INPUT', 'OUTPUT', 'UNIT'], rows, [2, 3, 4]));
    return 0;
  },
};
