/**
 * The TypeScript mirror of `contracts/src/libraries/MintCurve.sol`, bit for bit, for quotes in the CLI and the
 * dashboard. All amounts are wei (18 decimals) as bigint; rates are sVVV wei per DIEM in WAD.
 *
 *   mintRate(S) = base × exp(power × (S / target)^3)      (defaults: base 90, power 2, target 38,000 DIEM)
 *
 * Every step rounds up (in the protocol's favour). A mint of [a, b) is priced on a 10-DIEM grid, each cell at its
 * right-edge rate (an upper bound, since the rate only rises), with one final rounding up. Splitting a mint is
 * therefore never cheaper: ceil(x) + ceil(y) >= ceil(x + y).
 */
import { mulDivUp } from './money.ts';

export const WAD = 10n ** 18n;
export const CELL_WEI = 10n * WAD;
export const MAX_CELLS_PER_MINT = 256n;

export interface CurveParams {
  baseWad: bigint;
  powerWad: bigint;
  targetWei: bigint;
  /** Supply above which minting reverts, keeping expWad far from overflow. */
  maxSupplyWei: bigint;
}

export const defaultCurveParams: CurveParams = {
  baseWad: 90n * WAD,
  powerWad: 2n * WAD,
  targetWei: 38_000n * WAD,
  maxSupplyWei: 100_000n * WAD,
};

export class MintCurveError extends Error {
  override readonly name = 'MintCurveError';
}

const LN2_X96 = 54916777467707473351141471128n;

/**
 * e^x in WAD for x in WAD, a faithful port of solady's FixedPointMathLib.expWad (MIT; after Remco Bloemen).
 * BigInt `/` truncates toward zero and `>>` shifts arithmetically, exactly as Solidity's int256 `/`, `sdiv` and `>>`.
 */
export function expWad(xWad: bigint): bigint {
  if (xWad <= -41446531673892822313n) return 0n;
  if (xWad >= 135305999368893231589n) throw new MintCurveError('expWad overflow');
  let x = (xWad << 78n) / 5n ** 18n;
  const k = ((x << 96n) / LN2_X96 + 2n ** 95n) >> 96n;
  x = x - k * LN2_X96;
  let y = x + 1346386616545796478920950773328n;
  y = ((y * x) >> 96n) + 57155421227552351082224309758442n;
  let p = y + x - 94201549194550492254356042504812n;
  p = ((p * y) >> 96n) + 28719021644029726153956944680412240n;
  p = p * x + (4385272521454847904659076985693276n << 96n);
  let q = x - 2855989394907223263936484059900n;
  q = ((q * x) >> 96n) + 50020603652535783019961831881945n;
  q = ((q * x) >> 96n) - 533845033583426703283633433725380n;
  q = ((q * x) >> 96n) + 3604857256930695427073651918091429n;
  q = ((q * x) >> 96n) - 14423608567350463180887372962807573n;
  q = ((q * x) >> 96n) + 26449188498355588339934803723976023n;
  const r = p / q;
  return (r * 3822833074963236453042738258902158003155416615667n) >> (195n - k);
}

/** The mint rate at supply S, in sVVV wei per whole DIEM (WAD), rounded up at every step. */
export function rateWad(supplyWei: bigint, params: CurveParams = defaultCurveParams): bigint {
  const x = mulDivUp(supplyWei, WAD, params.targetWei);
  const x3 = mulDivUp(mulDivUp(x, x, WAD), x, WAD);
  const exponent = mulDivUp(params.powerWad, x3, WAD);
  return mulDivUp(params.baseWad, expWad(exponent), WAD);
}

/** The sVVV (wei) locked to mint `diemWei` DIEM starting at supply `supplyWei`. */
export function mintCostWei(supplyWei: bigint, diemWei: bigint, params: CurveParams = defaultCurveParams): bigint {
  if (diemWei <= 0n) throw new MintCurveError('mint amount must be positive');
  const end = supplyWei + diemWei;
  if (end > params.maxSupplyWei) throw new MintCurveError(`supply would exceed ${params.maxSupplyWei} wei`);
  const firstCell = supplyWei / CELL_WEI;
  const lastCell = (end - 1n) / CELL_WEI;
  const cells = lastCell - firstCell + 1n;
  if (cells > MAX_CELLS_PER_MINT)
    throw new MintCurveError(`mint touches ${cells} cells, at most ${MAX_CELLS_PER_MINT}`);
  let sum = 0n;
  for (let cell = firstCell; cell <= lastCell; cell++) {
    const cellStart = cell * CELL_WEI;
    const cellEnd = cellStart + CELL_WEI;
    const overlap = (end < cellEnd ? end : cellEnd) - (supplyWei > cellStart ? supplyWei : cellStart);
    sum += overlap * rateWad(cellEnd, params);
  }
  return mulDivUp(sum, 1n, WAD);
}

/** The most DIEM (wei) one mint may add starting at `supplyWei`: bounded by the cell limit and the supply cap. */
export function maxMintWei(supplyWei: bigint, params: CurveParams = defaultCurveParams): bigint {
  const cellLimitEnd = (supplyWei / CELL_WEI + MAX_CELLS_PER_MINT) * CELL_WEI;
  const end = cellLimitEnd < params.maxSupplyWei ? cellLimitEnd : params.maxSupplyWei;
  return end > supplyWei ? end - supplyWei : 0n;
}

/** Points of the curve for charts: `count` evenly spaced supplies from 0 to `toSupplyWei`. */
export function curvePoints(
  toSupplyWei: bigint,
  count: number,
  params: CurveParams = defaultCurveParams,
): { supplyWei: bigint; rateWad: bigint }[] {
  const steps = BigInt(Math.max(1, count - 1));
  return Array.from({ length: count }, (_, index) => {
    const supplyWei = (toSupplyWei * BigInt(index)) / steps;
    return { supplyWei, rateWad: rateWad(supplyWei, params) };
  });
}
