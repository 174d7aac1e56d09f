/**
 * `perdiem up`: the whole local stack in one command — chain, contracts, demo wallet, ledger, gateway and a local
 * model — with a readable summary and `.perdiem/state.json` for scripts. Ctrl-C stops everything it started.
 */
import path from 'node:path';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { localModelId, startLocalStack } from './localStack.ts';
import { type StackState, stateFilePath } from './stateFile.ts';

function portOption(value: unknown, name: string, fallback: number): number {
  const port = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`bad ${name}: ${String(value)}`);
  return port;
}

export const upCommand: Command = {
  summary: 'start the local stack: chain, contracts, demo wallet, ledger, gateway and a local model',
  usage: [
    'usage: perdiem up [--home DIR] [--port N] [--chain-port N] [--model FILE.gguf] [--json]',
    '',
    '  --home DIR        where state lives (default ./.perdiem)',
    '  --port N          gateway port (default 8787; 0 = any free port)',
    '  --chain-port N    local anvil chain port (default 8545; 0 = any free port)',
    `  --model FILE      a GGUF to serve as '${localModelId}' (default: a generated demo model with random weights)`,
    '  --json            print the state as JSON instead of a summary',
    '',
    'Ctrl-C stops everything it started; the next `perdiem up` resumes the same chain, ledger and key.',
  ].join('\n'),
  options: {
    home: { type: 'string' },
    port: { type: 'string' },
    'chain-port': { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const home = path.resolve(io.cwd, String(values.home ?? '.perdiem'));
    const stack = await startLocalStack({
      home,
      chainPort: portOption(values['chain-port'], '--chain-port', 8545),
      gatewayPort: portOption(values.port, '--port', 8787),
      ...(typeof values.model === 'string' ? { modelPath: path.resolve(io.cwd, values.model) } : {}),
      progress: (line) => {
        if (!values.json) io.out(`▸ ${line}`);
      },
    });
    try {
      io.out(values.json ? JSON.stringify(stack.state) : summary(stack.state, home));
      await io.stopRequested;
      if (!values.json) io.out('▸ stopping…');
    } finally {
      await stack.stop();
    }
    return 0;
  },
};

function summary(state: StackState, home: string): string {
  const curl = [
    `curl -s ${state.gatewayUrl}/v1/chat/completions`,
    `-H 'Authorization: Bearer ${state.demo.apiKey}' -H 'Content-Type: application/json'`,
    `-d '{"model":"${localModelId}","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'`,
  ].join(' \\\n    ');
  return [
    '',
    'perdiem is up.',
    '',
    `  gateway      ${state.gatewayUrl}/v1   (OpenAI-compatible; model '${localModelId}')`,
    `  API key      ${state.demo.apiKey}`,
    `  chain        ${state.rpcUrl} (chain id ${state.chainId})`,
    `  contracts    VVV ${state.contracts.vvv}`,
    `               sVVV ${state.contracts.stakedVvv}`,
    `               DIEM ${state.contracts.diem}`,
    `               DIEM staking ${state.contracts.diemStaking}`,
    `  demo wallet  ${state.demo.address} (development key in ${stateFilePath(home)})`,
    '',
    'Try it:',
    `  ${curl}`,
    `  curl -s ${state.gatewayUrl}/api/v1/billing/balance -H 'Authorization: Bearer ${state.demo.apiKey}'`,
    '',
    'Press Ctrl-C to stop.',
  ].join('\n');
}
