/** `perdiem deploy`: deploys the four contracts to any RPC with the given key and prints their addresses. */
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainFor, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { defaultDeployConfig, deployPerdiem } from '../chain/deploy.ts';
import { type Command, UsageError } from './command.ts';

export const deployCommand: Command = {
  summary: 'deploy VVV, sVVV, DIEM and DIEM staking to an RPC',
  usage: [
    'usage: perdiem deploy --rpc URL --private-key 0x… [--epoch-seconds N] [--json]',
    '',
    '  --rpc URL          JSON-RPC endpoint of any EVM chain',
    '  --private-key KEY  deployer key; also the owner and the holder of the genesis VVV supply',
    '                     (or set PERDIEM_DEPLOYER_KEY)',
    '  --epoch-seconds N  DIEM allowance epoch length (default 86400; the DIEM cooldown equals it)',
    '  --json             print the addresses as JSON',
  ].join('\n'),
  options: {
    rpc: { type: 'string' },
    'private-key': { type: 'string' },
    'epoch-seconds': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const rpcUrl = values.rpc;
    const key = values['private-key'] ?? io.env.PERDIEM_DEPLOYER_KEY;
    if (typeof rpcUrl !== 'string') throw new UsageError('--rpc is required');
    if (typeof key !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new UsageError('--private-key must be a 0x-prefixed 32-byte hex key');
    }
    const epochSeconds = BigInt(String(values['epoch-seconds'] ?? '86400'));
    if (epochSeconds <= 0n) throw new UsageError('--epoch-seconds must be positive');

    const probe = publicClientFor(chainFor(1, rpcUrl));
    const chainId = await probe.getChainId().catch((error: Error) => {
      throw new Error(`cannot reach the RPC at ${rpcUrl}: ${error.message.split('\n')[0]}`);
    });
    const chain = chainFor(chainId, rpcUrl);
    const wallet = walletClientFor(chain, privateKeyToAccount(key as Hex));
    const base = defaultDeployConfig(wallet.account.address);
    const config = { ...base, diemStaking: { ...base.diemStaking, epochSeconds, cooldownSeconds: epochSeconds } };
    const contracts = await deployPerdiem(wallet, publicClientFor(chain), config);
    if (values.json) io.out(JSON.stringify({ chainId, contracts }, null, 2));
    else
      io.out(
        Object.entries(contracts)
          .map(([name, address]) => `${name.padEnd(12)} ${address}`)
          .join('\n'),
      );
    return 0;
  },
};
