/**
 * `perdiem receipts get|verify <requestId>`: a charge's signed receipt from the gateway (`GET /api/v1/receipts/{id}`),
 * and its check: the EIP-712 signature against the signer the caller trusts (state.json's `receipts.signer`, or
 * `--signer`), and the receipt's cost and usage against the account's usage history rows of that request.
 */
import { type Address, isAddress } from 'viem';
import { parseUsd } from '../core/money.ts';
import { type SignedReceipt, verifySignedReceipt } from '../core/receipt.ts';
import { type UsageBreakdown, usageBreakdownOf } from '../core/usageBreakdown.ts';
import { type Command, UsageError } from './command.ts';
import { loadState, stringOption, type Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, keyValues } from './output.ts';

interface HistoryRow {
  requestId: string;
  sku: string;
  units: number;
  amount: string;
  model: string;
  source: string;
}

/** The history page the rows of one charge fit in: a charge has at most a handful of lines. */
const historyPageSize = 500;

async function receiptOf(gateway: Gateway, requestId: string): Promise<SignedReceipt> {
  return (await gateway.request('GET', `/api/v1/receipts/${encodeURIComponent(requestId)}`)).body as SignedReceipt;
}

/** The usage rows of the request: every row of a settle carries the settle's time, so that millisecond holds them. */
async function historyRowsOf(gateway: Gateway, signed: SignedReceipt): Promise<HistoryRow[]> {
  const at = signed.receipt.settledAtMs;
  const query = {
    startDate: new Date(at).toISOString(),
    endDate: new Date(at + 1).toISOString(),
    limit: String(historyPageSize),
  };
  const page = (await gateway.request('GET', '/api/v1/billing/usage-history', { query })).body as {
    data: HistoryRow[];
  };
  return page.data.filter((row) => row.requestId === signed.receipt.requestId);
}

function trustedSigner(values: Values, io: Parameters<Command['run']>[2]): Address {
  const flag = stringOption(values, 'signer');
  const signer = flag ?? loadState(values, io)?.receipts?.signer;
  if (signer === undefined) throw new UsageError('no signer to trust: pass --signer ADDRESS or run `perdiem up` first');
  if (!isAddress(signer, { strict: false })) throw new UsageError(`--signer is not an address: ${signer}`);
  return signer;
}

/** What differs between the receipt and the ledger's rows; empty when they agree. */
function mismatches(signed: SignedReceipt, rows: HistoryRow[]): string[] {
  const { receipt } = signed;
  if (rows.length === 0) return ['the usage history has no rows for this request'];
  const found: string[] = [];
  const charged = rows.reduce((sum, row) => sum + parseUsd(row.amount), 0n);
  if (charged.toString() !== receipt.costNanoUsd) {
    found.push(`cost: the receipt says ${receipt.costNanoUsd} nano-USD, the usage history ${charged}`);
  }
  if (BigInt(receipt.costDiemWei) !== BigInt(receipt.costNanoUsd) * 1_000_000_000n) {
    found.push(`costDiemWei ${receipt.costDiemWei} is not costNanoUsd × 10^9`);
  }
  const usage = usageBreakdownOf(rows);
  for (const field of Object.keys(usage) as (keyof UsageBreakdown)[]) {
    if (usage[field] !== receipt.usage[field]) {
      found.push(`${field}: the receipt says ${receipt.usage[field]}, the usage history ${usage[field]}`);
    }
  }
  if (rows.some((row) => row.model !== receipt.model)) found.push(`model: the receipt says ${receipt.model}`);
  if (rows.some((row) => row.source !== receipt.fundingSource)) {
    found.push(`funding source: the receipt says ${receipt.fundingSource}`);
  }
  return found;
}

async function verify(gateway: Gateway, signed: SignedReceipt, signer: Address) {
  const signatureValid = await verifySignedReceipt(signed, signer);
  const failures = mismatches(signed, await historyRowsOf(gateway, signed));
  if (!signatureValid) failures.unshift(`the signature is not ${signer}'s over this receipt`);
  return { requestId: signed.receipt.requestId, signer, signatureValid, ok: failures.length === 0, failures };
}

function receiptLines(signed: SignedReceipt): string {
  const { receipt } = signed;
  const u = receipt.usage;
  return keyValues([
    ['request', receipt.requestId],
    ['account', receipt.account],
    ['model', receipt.model],
    ['price sheet', receipt.priceSheetHash],
    [
      'usage',
      `${u.inputTokens} in, ${u.cachedInputTokens} cached, ${u.outputTokens} out, ${u.reasoningTokens} reasoning`,
    ],
    ['', `${u.images} images, ${u.characters} characters`],
    ['cost', `${receipt.costNanoUsd} nano-USD (${receipt.costDiemWei} DIEM wei) from ${receipt.fundingSource}`],
    ['settled', new Date(receipt.settledAtMs).toISOString()],
    ['signer', `${signed.signer} (chain ${signed.domain.chainId})`],
    ['signature', signed.signature],
  ]);
}

export const receiptsCommand: Command = {
  summary: "a charge's signed receipt: get it, or verify its signature and cost against the usage history",
  usage: [
    'usage: perdiem receipts get <requestId> [--json]',
    '       perdiem receipts verify <requestId> [--signer ADDRESS] [--json]',
    '',
    '  get                 the receipt the gateway signed for the request (its x-request-id)',
    '  verify              checks the EIP-712 signature against the trusted signer and the cost and usage against the',
    "                      account's usage history; exit 1 when anything disagrees",
    "  --signer ADDRESS    the operator's receipt signer (default: receipts.signer in .perdiem/state.json)",
    gatewayUsage,
  ].join('\n'),
  options: { ...gatewayOptions, signer: { type: 'string' } },
  async run(values, positionals, io) {
    const [action, requestId, ...rest] = positionals;
    if ((action !== 'get' && action !== 'verify') || requestId === undefined || rest.length > 0) {
      throw new UsageError(action === undefined ? 'missing get or verify' : `bad arguments: ${positionals.join(' ')}`);
    }
    const gateway = openGateway(values, io, 'api-key');
    if (action === 'get') {
      const signed = await receiptOf(gateway, requestId);
      io.out(values.json ? jsonText(signed) : receiptLines(signed));
      return 0;
    }
    const signer = trustedSigner(values, io);
    const result = await verify(gateway, await receiptOf(gateway, requestId), signer);
    if (values.json) io.out(jsonText(result));
    else if (result.ok) io.out(`receipt ${requestId} verifies: signed by ${signer}, and the usage history agrees`);
    else io.out([`receipt ${requestId} does NOT verify:`, ...result.failures.map((f) => `  - ${f}`)].join('\n'));
    return result.ok ? 0 : 1;
  },
};
