/**
 * `perdiem prices anchor|verify`: price sheets against the PriceRegistry.
 *
 * anchor: takes the sheet the gateway holds for an epoch (default: the next one) from its public index
 * (GET /v1/prices/sheets), fetches the sheet's bytes, re-hashes them, and anchors hash and URI for that epoch with
 * the registry owner's key. The contract refuses an epoch that has begun.
 *
 * verify: takes the sheet the gateway holds for an epoch (default: the current one; the latest sheet starting by the
 * epoch's end), re-hashes the bytes it serves, and compares with the hash anchored for the sheet's epoch. Prints when
 * the anchor was made relative to that epoch's start. Exit 1 when the sheet is unanchored or does not match.
 */
import { type Account, type Address, type Hex, keccak256 } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { anvilMnemonic } from '../chain/anvil.ts';
import { walletClientFor } from '../chain/clients.ts';
import { anchorSheet, isAnchored, readAnchor, readRegistryClock, type SheetAnchor } from '../chain/priceRegistry.ts';
import { epochAt, epochStartMs } from '../core/epoch.ts';
import type { SheetHash } from '../core/priceSheetHash.ts';
import { type CliIo, type OptionSpec, UsageError } from './command.ts';
import {
  chainSettings,
  chainStep,
  loadState,
  openReadChain,
  type ReadChain,
  stringOption,
  type Values,
} from './context.ts';
import { gatewayRequestTimeoutMs } from './limits.ts';
import { jsonText, keyValues } from './output.ts';
import type { RevertHint } from './revertHints.ts';

export const pricesAnchorOptions: OptionSpec = {
  rpc: { type: 'string' },
  contracts: { type: 'string' },
  'private-key': { type: 'string' },
  epoch: { type: 'string' },
};

export const pricesAnchorUsage = [
  '       perdiem prices anchor [--epoch N] [--private-key KEY] [options]',
  '       perdiem prices verify [--epoch N] [options]',
  '',
  'anchor commits the hash of the sheet the gateway holds for epoch N (default: the next epoch) and its URI',
  '(GET /v1/prices/sheets/HASH) to the PriceRegistry, with the owner key (--private-key, PERDIEM_DEPLOYER_KEY, or',
  'on the local chain of `perdiem up` its deployer). verify re-hashes the sheet the gateway serves for epoch N',
  '(default: the current epoch) and compares it with the anchor; it exits 1 when unanchored or different.',
  '  --epoch N           the epoch (floor(unix seconds / epochSeconds))',
  '  --rpc URL --contracts FILE  the chain (default: .perdiem/state.json)',
].join('\n');

interface IndexedSheet {
  hash: SheetHash;
  effectiveFrom: string;
  effectiveFromMs: number;
}

interface Registry {
  read: ReadChain;
  address: Address;
  epochSeconds: number;
  currentEpoch: number;
  deploymentEpoch: number;
  owner: Address;
}

async function openRegistry(values: Values, io: CliIo): Promise<Registry> {
  const read = await openReadChain(chainSettings(values, io));
  const address = read.contracts.priceRegistry;
  if (!address) throw new UsageError('the contracts have no priceRegistry: deploy them again with this perdiem');
  return { read, address, ...(await chainStep(() => readRegistryClock(read.client, address))) };
}

function gatewayUrlOf(values: Values, io: CliIo): string {
  const url = (stringOption(values, 'gateway') ?? loadState(values, io)?.gatewayUrl)?.replace(/\/+$/, '');
  if (url === undefined) throw new UsageError('no gateway: pass --gateway URL or run `perdiem up` first');
  return url;
}

async function fetchPublic(url: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(gatewayRequestTimeoutMs) });
  } catch (error) {
    throw new Error(`cannot fetch ${url}: ${(error as Error).message}`);
  }
}

async function sheetIndex(gatewayUrl: string): Promise<IndexedSheet[]> {
  const answer = await fetchPublic(`${gatewayUrl}/v1/prices/sheets`);
  if (!answer.ok) throw new Error(`the gateway answered ${answer.status} for its price-sheet index`);
  const { data } = (await answer.json()) as { data: { hash: SheetHash; effectiveFrom: string }[] };
  return data.map((sheet) => ({ ...sheet, effectiveFromMs: Date.parse(sheet.effectiveFrom) }));
}

/** keccak256 of the bytes served at `url`, or null when nothing is served there. */
async function hashOfServedBytes(url: string): Promise<SheetHash | null> {
  const answer = await fetchPublic(url);
  if (!answer.ok) return null;
  return keccak256(new Uint8Array(await answer.arrayBuffer())) as SheetHash;
}

function parseEpoch(values: Values, fallback: number): number {
  const text = stringOption(values, 'epoch');
  if (text === undefined) return fallback;
  if (!/^\d{1,15}$/.test(text)) throw new UsageError('--epoch must be a non-negative integer');
  return Number(text);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The owner's key: --private-key, PERDIEM_DEPLOYER_KEY, or the deployer of the local chain `perdiem up` started. */
function ownerAccount(values: Values, io: CliIo, owner: Address, rpcUrl: string): Account {
  const key = stringOption(values, 'private-key') ?? io.env.PERDIEM_DEPLOYER_KEY;
  if (key !== undefined) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('--private-key must be a 0x-prefixed 32-byte hex key');
    return privateKeyToAccount(key as Hex);
  }
  const deployer = mnemonicToAccount(anvilMnemonic);
  const state = loadState(values, io);
  if (state?.rpcUrl === rpcUrl && deployer.address.toLowerCase() === owner.toLowerCase()) return deployer;
  throw new UsageError(`anchor needs the PriceRegistry owner's key (the owner is ${owner}): pass --private-key`);
}

const registryHint: RevertHint = (errorName, args) => {
  const [epoch, current] = args.map(String);
  switch (errorName) {
    case 'PriceRegistryEpochStarted':
      return `epoch ${epoch} has begun (the chain is in epoch ${current}): its anchor is final; anchor a later epoch`;
    case 'PriceRegistryAnchorUnchanged':
      return `epoch ${epoch} is already anchored to this sheet and URI`;
    case 'OwnableUnauthorizedAccount':
      return 'only the PriceRegistry owner anchors';
    default:
      return undefined;
  }
};

export async function anchorAction(values: Values, io: CliIo): Promise<number> {
  const registry = await openRegistry(values, io);
  const epoch = parseEpoch(values, registry.currentEpoch + 1);
  const gatewayUrl = gatewayUrlOf(values, io);
  const sheet = (await sheetIndex(gatewayUrl))
    .filter((candidate) => epochAt(candidate.effectiveFromMs, registry.epochSeconds) === epoch)
    .at(-1);
  const startsMs = epochStartMs(epoch, registry.epochSeconds);
  if (!sheet) {
    throw new Error(
      `the gateway holds no sheet taking effect in epoch ${epoch} (it starts ${iso(startsMs)}): schedule one first`,
    );
  }
  const uri = `${gatewayUrl}/v1/prices/sheets/${sheet.hash}`;
  const served = await hashOfServedBytes(uri);
  if (served !== sheet.hash)
    throw new Error(`the bytes served at ${uri} hash to ${served ?? 'nothing'}, not ${sheet.hash}`);
  const account = ownerAccount(values, io, registry.owner, registry.read.rpcUrl);
  const wallet = walletClientFor(registry.read.client.chain, account);
  const tx = await chainStep(
    () => anchorSheet(wallet, registry.read.client, registry.address, { epoch, hash: sheet.hash, uri }),
    registryHint,
  );
  const anchor = await readAnchor(registry.read.client, registry.address, epoch);
  const result = {
    epoch,
    epochStartsAt: iso(startsMs),
    hash: sheet.hash,
    uri,
    effectiveFrom: sheet.effectiveFrom,
    transaction: tx,
    anchoredAt: iso(anchor.anchoredAtSeconds * 1000),
    announcedSecondsBefore: Math.floor(startsMs / 1000) - anchor.anchoredAtSeconds,
  };
  io.out(
    values.json === true
      ? jsonText(result)
      : keyValues([
          ['epoch', `${epoch} (starts ${result.epochStartsAt})`],
          ['sheet', `${sheet.hash} (effective from ${sheet.effectiveFrom})`],
          ['uri', uri],
          ['transaction', tx],
          ['anchored', `${result.anchoredAt}, ${result.announcedSecondsBefore} s before the epoch begins`],
        ]),
  );
  return 0;
}

type Verdict = 'anchored' | 'mismatch' | 'unanchored' | 'predates-registry' | 'no-sheet' | 'not-served';

function verdictOf(
  sheet: IndexedSheet | undefined,
  sheetEpoch: number | null,
  anchor: SheetAnchor | null,
  deploymentEpoch: number,
): Verdict {
  if (!sheet || sheetEpoch === null) return 'no-sheet';
  if (sheetEpoch <= deploymentEpoch) return 'predates-registry';
  if (!anchor || !isAnchored(anchor)) return 'unanchored';
  return anchor.hash === sheet.hash ? 'anchored' : 'mismatch';
}

const verdictText: Record<Verdict, string> = {
  anchored: 'OK: the served sheet is the one anchored on chain',
  mismatch: 'MISMATCH: the served sheet is not the one anchored on chain',
  unanchored: 'UNANCHORED: no sheet is anchored on chain for its epoch',
  'predates-registry': 'exempt: the sheet takes effect before the registry existed, so it could not be anchored',
  'no-sheet': 'the gateway holds no sheet for this epoch',
  'not-served': 'NOT SERVED: the gateway lists the sheet but does not serve its bytes',
};

export async function verifyAction(values: Values, io: CliIo): Promise<number> {
  const registry = await openRegistry(values, io);
  const epoch = parseEpoch(values, registry.currentEpoch);
  const gatewayUrl = gatewayUrlOf(values, io);
  const endMs = epochStartMs(epoch + 1, registry.epochSeconds);
  // The sheet the gateway holds for the epoch: the latest that starts by its end.
  const sheet = (await sheetIndex(gatewayUrl)).filter((candidate) => candidate.effectiveFromMs < endMs).at(-1);
  const sheetEpoch = sheet ? epochAt(sheet.effectiveFromMs, registry.epochSeconds) : null;
  const needsAnchor = sheetEpoch !== null && sheetEpoch > registry.deploymentEpoch;
  const anchor = needsAnchor ? await readAnchor(registry.read.client, registry.address, sheetEpoch) : null;
  // Re-hash the bytes the gateway serves for the sheet: the gateway's own claim is not taken on trust.
  const servedHash = sheet ? await hashOfServedBytes(`${gatewayUrl}/v1/prices/sheets/${sheet.hash}`) : null;
  const served = sheet && servedHash ? { ...sheet, hash: servedHash } : undefined;
  const verdict = sheet && !served ? 'not-served' : verdictOf(served, sheetEpoch, anchor, registry.deploymentEpoch);
  const startsMs = sheetEpoch === null ? null : epochStartMs(sheetEpoch, registry.epochSeconds);
  const announced =
    anchor && isAnchored(anchor) && startsMs !== null ? Math.floor(startsMs / 1000) - anchor.anchoredAtSeconds : null;
  const result = {
    epoch,
    verdict,
    sheetEpoch,
    sheetEpochStartsAt: startsMs === null ? null : iso(startsMs),
    effectiveFrom: sheet?.effectiveFrom ?? null,
    servedHash,
    anchoredHash: anchor && isAnchored(anchor) ? anchor.hash : null,
    uri: anchor && isAnchored(anchor) ? anchor.uri : null,
    anchoredAt: anchor && isAnchored(anchor) ? iso(anchor.anchoredAtSeconds * 1000) : null,
    anchoredBlock: anchor && isAnchored(anchor) ? anchor.anchoredBlock.toString() : null,
    announcedSecondsBefore: announced,
  };
  io.out(values.json === true ? jsonText(result) : verifyText(result));
  return verdict === 'anchored' || verdict === 'predates-registry' ? 0 : 1;
}

function verifyText(result: {
  epoch: number;
  verdict: Verdict;
  sheetEpoch: number | null;
  sheetEpochStartsAt: string | null;
  servedHash: string | null;
  anchoredHash: string | null;
  uri: string | null;
  anchoredAt: string | null;
  announcedSecondsBefore: number | null;
}): string {
  const pairs: [string, string][] = [['epoch', String(result.epoch)]];
  if (result.sheetEpoch !== null)
    pairs.push(['sheet from', `epoch ${result.sheetEpoch} (${result.sheetEpochStartsAt})`]);
  pairs.push(['served hash', result.servedHash ?? 'none']);
  if (result.anchoredHash !== null) pairs.push(['anchored hash', result.anchoredHash], ['anchored uri', result.uri!]);
  if (result.announcedSecondsBefore !== null) {
    pairs.push([
      'announced',
      `${result.anchoredAt}, ${result.announcedSecondsBefore} s before epoch ${result.sheetEpoch} began`,
    ]);
  }
  pairs.push(['verdict', verdictText[result.verdict]]);
  return keyValues(pairs);
}
