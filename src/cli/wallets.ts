/**
 * `perdiem wallets list|link`: the account's linked wallets, and linking one more by its signature. The account's
 * DIEM allowance is the sum over its wallets; a wallet belongs to one account for good (there is no unlink).
 */
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, keyValues, table } from './output.ts';

interface WalletView {
  address: string;
  linkedAt: string;
}

/** The key of the wallet to link: --private-key or PERDIEM_PRIVATE_KEY, never the demo wallet (linked already). */
export function linkKeyOf(values: Values, env: NodeJS.ProcessEnv): Hex {
  const key = stringOption(values, 'private-key') ?? env.PERDIEM_PRIVATE_KEY;
  if (key === undefined)
    throw new UsageError('link needs the new wallet: pass --private-key or set PERDIEM_PRIVATE_KEY');
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('--private-key must be a 0x-prefixed 32-byte hex key');
  return key as Hex;
}

async function list(gateway: Gateway, json: boolean): Promise<string> {
  const wallets = ((await gateway.request('GET', '/api/v1/wallets')).body as { data: WalletView[] }).data;
  if (json) return jsonText(wallets);
  if (wallets.length === 0) return 'no wallet is linked to this account';
  return table(
    ['ADDRESS', 'LINKED (UTC)'],
    wallets.map((wallet) => [wallet.address, wallet.linkedAt.slice(0, 19)]),
  );
}

/** Asks for a link token, signs it with the wallet (EIP-191) and posts the proof. */
async function link(gateway: Gateway, privateKey: Hex, json: boolean): Promise<string> {
  const wallet = privateKeyToAccount(privateKey);
  const issued = await gateway.request('GET', '/api/v1/wallets/link');
  const { token } = (issued.body as { data: { token: string } }).data;
  const signature = await wallet.signMessage({ message: token });
  const answer = await gateway.request('POST', '/api/v1/wallets/link', {
    body: { address: wallet.address, signature, token },
  });
  const linked = (answer.body as { data: WalletView }).data;
  const isNew = answer.status === 201;
  if (json) return jsonText({ ...linked, newlyLinked: isNew });
  return [
    keyValues([
      ['wallet', linked.address],
      ['linked', linked.linkedAt],
    ]),
    '',
    isNew
      ? "Linked: the wallet's staked DIEM now adds to this account's allowance (see `perdiem balance`)."
      : 'This wallet was linked to this account already.',
  ].join('\n');
}

export const walletsCommand: Command = {
  summary: "list the account's wallets, or link one more by its signature",
  usage: [
    'usage: perdiem wallets list [options]',
    '       perdiem wallets link --private-key KEY [options]',
    '',
    "list shows the wallets linked to the API key's account, oldest first. link signs a token from the gateway with",
    "the wallet's key (EIP-191; the key stays here) and links the wallet to the account: its staked DIEM then adds to",
    "the account's daily allowance. A wallet belongs to one account for good: one linked to another account is",
    'refused (409 wallet_linked), and there is no unlink.',
    '',
    '  --private-key KEY   the key of the wallet to link (or PERDIEM_PRIVATE_KEY)',
    gatewayUsage,
  ].join('\n'),
  options: { ...gatewayOptions, 'private-key': { type: 'string' } },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    if (action === 'list' && rest.length === 0) {
      if (values['private-key'] !== undefined) throw new UsageError('list takes no --private-key');
      io.out(await list(openGateway(values, io, 'api-key'), json));
    } else if (action === 'link' && rest.length === 0) {
      const privateKey = linkKeyOf(values, io.env); // usage errors before any request
      io.out(await link(openGateway(values, io, 'api-key'), privateKey, json));
    } else {
      throw new UsageError(action === undefined ? 'missing list or link' : `bad arguments: ${positionals.join(' ')}`);
    }
    return 0;
  },
};
