/**
 * `perdiem up`: the whole stack in one command — on the embedded defaults a local chain, the contracts, a demo
 * wallet, a SQLite ledger, the gateway and a local model — with a readable summary and `.perdiem/state.json` for
 * scripts. Ctrl-C stops everything it started.
 */
import type { Command } from './command.ts';
import { startLocalStack } from './localStack.ts';
import { resolveStackConfig, stackConfigOptions } from './stackConfig.ts';
import { type StackState, stateFilePath } from './stateFile.ts';

export const upCommand: Command = {
  summary: 'start the stack: chain, contracts, demo wallet, ledger, gateway and a local model',
  usage: [
    'usage: perdiem up [options] [--json]',
    '',
    'On the embedded defaults everything runs locally. Each option switches a part to a real one; each can also',
    'be set as PERDIEM_<NAME> in the environment or as "<name>" in perdiem.config.json (or --config FILE).',
    '',
    '  --home DIR                     where state lives (default ./.perdiem)',
    '  --port N                       gateway port (default 8787; 0 = any free port)',
    '  --host ADDRESS                 gateway bind address (default 127.0.0.1; another needs --dev-wallet false)',
    '  --chain-port N                 local anvil port (default 8545; 0 = any free port)',
    '  --rpc URL                      an external EVM chain instead of the local anvil',
    '  --contracts FILE               deployed addresses on --rpc ({vvv, stakedVvv, diem, diemStaking[, priceRegistry]})',
    '  --follow-from-block N          with --contracts: where the event follower starts (default: the head)',
    '  --operator-key 0x…             deploy the contracts on --rpc with this key instead',
    "  --receipt-key 0x…              the key that signs each charge's receipt (default: one kept in DIR/receipt-key)",
    '  --confirmations N              blocks before a stake counts (default 0)',
    '  --database-url postgres://…    PostgreSQL ledger instead of SQLite',
    '  --database-schema NAME         its schema (default perdiem)',
    '  --redis-url redis://…          Redis rate limits instead of in-memory',
    '  --alert-interval-ms N          how often budget alerts are raised and webhooks sent (default 2000)',
    '  --webhook-attempts-max N       attempts per webhook delivery before giving up (default 20)',
    '  --webhook-private-destinations true|false  send webhooks to loopback and private addresses (default: true',
    '                                 only with a loopback --host)',
    '  --unanchored-prices refuse|warn  a price sheet not anchored on chain for its epoch is refused (default;',
    '                                 the sheet before it stays in force) or only warned about',
    '  --rate-limit-key-rpm N         requests per minute per key (default 500)',
    '  --rate-limit-key-tpm N         tokens per minute per key (default 1000000)',
    '  --rate-limit-account-rpm N     requests per minute per account (default 2000)',
    '  --rate-limit-account-tpm N     tokens per minute per account (default 4000000)',
    "  --dev-wallet true|false        give the dashboard the local demo wallet's private key (default true;",
    '                                 loopback --host only)',
    '  --model FILE.gguf              serve this GGUF in process (default: a generated demo model, random weights)',
    '  --upstream URL[,URL…]          OpenAI-compatible upstreams (…/v1), in failover order, instead of a local model',
    '  --upstream-api-key KEY         bearer key for the upstreams',
    '  --upstream-models ID[,ID…]     models to serve from the upstreams (default: what they list)',
    '  --upstream-image-models ID[,ID…]  image models to serve from them ($0.04 an image until repriced)',
    '  --upstream-speech-models ID[,ID…]  text-to-speech models to serve from them ($15 per 1M characters until',
    '                                 repriced)',
    '  --cu-price-usd N               what one compute unit is priced at when calibrating (default 0.001)',
    '  --price-margin-bps N           calibration markup over compute cost (default 2000: 20%)',
    '  --price-step-bps-max N         most a price moves per epoch without an override (default 2000: 20%)',
    '  --auto-calibrate true|false    announce the calibrated sheet for the next epoch, once per epoch (default false)',
    '  --allocation diem|legacy       allowance from staked DIEM (default), or a daily USD capacity split by sVVV',
    '  --legacy-daily-capacity-usd N  that capacity, for --allocation legacy',
    '  --compute-cu-per-second N      compute units one engine-second of the served provider is worth (default 1)',
    '  --compute-cost-per-hour-usd USD  what an hour of that hardware costs',
    '  --json                         print the state as one line of JSON instead of a summary',
    '',
    'Ctrl-C stops everything it started; the next `perdiem up` resumes the same chain, ledger and key.',
  ].join('\n'),
  options: { ...stackConfigOptions, json: { type: 'boolean' } },
  async run(values, _positionals, io) {
    const config = resolveStackConfig(values, io.env, io.cwd);
    const stack = await startLocalStack({
      config,
      progress: (line) => {
        if (!values.json) io.out(`▸ ${line}`);
      },
    });
    try {
      io.out(values.json ? JSON.stringify(stack.state) : summary(stack.state, config.home));
      await io.stopRequested;
      if (!values.json) io.out('▸ stopping…');
    } finally {
      await stack.stop();
    }
    return 0;
  },
};

export function summary(state: StackState, home: string): string {
  const model = state.models[0] ?? 'MODEL';
  const key = state.demo?.apiKey ?? 'YOUR_KEY';
  const curl = [
    `curl -s ${state.gatewayUrl}/v1/chat/completions`,
    `-H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json'`,
    `-d '{"model":"${model}","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'`,
  ].join(' \\\n    ');
  const lines = [
    '',
    'perdiem is up.',
    '',
    `  dashboard    ${state.gatewayUrl}/`,
    `  gateway      ${state.gatewayUrl}/v1   (OpenAI-compatible; models: ${state.models.join(', ')})`,
    `  chain        ${state.rpcUrl} (chain id ${state.chainId})`,
    `  contracts    VVV ${state.contracts.vvv}`,
    `               sVVV ${state.contracts.stakedVvv}`,
    `               DIEM ${state.contracts.diem}`,
    `               DIEM staking ${state.contracts.diemStaking}`,
    ...(state.contracts.priceRegistry ? [`               price registry ${state.contracts.priceRegistry}`] : []),
  ];
  if (state.demo) {
    lines.push(
      `  API key      ${state.demo.apiKey}   (INFERENCE: requests)`,
      `  ADMIN key    ${state.demo.adminKey}   (ADMIN: creates and revokes keys; \`perdiem keys\` uses it)`,
      `  demo wallet  ${state.demo.address} (development key in ${stateFilePath(home)})`,
    );
  } else {
    lines.push('  API keys     get one with a wallet: GET then POST /api/v1/api_keys/generate_web3_key');
  }
  if (state.receipts) {
    lines.push(`  receipts     signed by ${state.receipts.signer} (\`perdiem receipts verify <x-request-id>\`)`);
  }
  if (state.x402) {
    lines.push(
      `  x402         wallets top up at ${state.gatewayUrl}/api/v1/x402/top-up (test USDC ${state.x402.usdc},`,
      `               facilitator ${state.x402.facilitatorUrl}; the demo wallet holds $1,000 of it)`,
    );
  }
  lines.push(
    '',
    'Try it:',
    `  ${curl}`,
    `  curl -s ${state.gatewayUrl}/api/v1/billing/balance -H 'Authorization: Bearer ${key}'`,
    '',
    'Press Ctrl-C to stop.',
  );
  return lines.join('\n');
}
