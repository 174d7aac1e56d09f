/**
 * `perdiem models measurements`: what each served model costs to run, as the gateway measured it from its traffic
 * (GET /admin/measurements, operator token): engine-seconds per prompt and output token, samples, and CU per 1M
 * tokens at the provider's declared rate.
 */
import type { MeasurementJson } from '../gateway/compute/measurementJson.ts';
import type { CliIo } from './command.ts';
import type { Values } from './context.ts';
import { openGateway } from './gatewayClient.ts';
import { jsonText, table } from './output.ts';

const seconds = (value: number | null) => (value === null ? '-' : value.toPrecision(3));

export async function showMeasurements(values: Values, io: CliIo): Promise<number> {
  const answer = await openGateway(values, io, 'operator').request('GET', '/admin/measurements');
  const rows = (answer.body as { data: MeasurementJson[] }).data;
  if (values.json) {
    io.out(jsonText(rows));
    return 0;
  }
  if (rows.length === 0) {
    io.out('no measurements yet: they come from the traffic the gateway serves');
    return 0;
  }
  const cells = rows.map((row) => [
    row.model,
    row.provider,
    row.kind,
    seconds(row.prefillSecondsPerToken),
    seconds(row.decodeSecondsPerToken),
    String(row.samples),
    row.cu.inputPer1M ?? '-',
    row.cu.outputPer1M ?? row.cu.perImage ?? '-',
    row.inheritedFrom === null ? '' : `from ${row.inheritedFrom}`,
  ]);
  const header = ['MODEL', 'PROVIDER', 'KIND', 'PREFILL S/TOK', 'DECODE S/TOK', 'SAMPLES', 'CU/1M IN', 'CU/1M OUT', ''];
  io.out(table(header, cells, [3, 4, 5, 6, 7]));
  return 0;
}
