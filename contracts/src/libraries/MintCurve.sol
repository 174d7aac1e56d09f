// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @title MintCurve
/// @notice The DIEM mint-rate curve and the price of a mint, in sVVV wei.
/// @dev The exact algorithm (mirrored bit for bit by the TypeScript code in src/core):
///
///   rateWad(S), the sVVV wei locked per DIEM (scaled by WAD = 1e18) at DIEM supply S wei:
///     x    = mulDivUp(S, WAD, targetWei)                      // S / target, rounded up
///     x3   = mulDivUp(mulDivUp(x, x, WAD), x, WAD)            // (S / target)^3, rounded up
///     e    = mulDivUp(powerWad, x3, WAD)                      // power * x3, rounded up
///     rate = mulDivUp(baseWad, uint256(expWad(int256(e))), WAD) // base * exp(e), rounded up
///   (mulDivUp and expWad are solady FixedPointMathLib.)
///
///   cost(a, b), the sVVV wei locked to mint b - a DIEM wei starting at supply a:
///     the supply axis is cut into cells of CELL_WEI; cell i covers [i * CELL_WEI, (i + 1) * CELL_WEI) and is priced
///     at its right-edge rate rateWad((i + 1) * CELL_WEI), an upper bound for the whole cell since the rate rises;
///     sum  = Σ over cells i touching [a, b) of overlap_i * rateWad((i + 1) * CELL_WEI)   (exact, no rounding)
///     cost = ceil(sum / WAD)                                                             (the only rounding, up)
///
///   Reverts: b == a (MintCurveZeroAmount); b > maxSupplyWei (MintCurveSupplyCapExceeded); [a, b) touches more than
///   MAX_CELLS_PER_MINT cells (MintCurveTooManyCells).
///
/// Properties:
///   - sum is additive over adjacent intervals, and ceil(x) + ceil(y) >= ceil(x + y), so splitting a mint into parts
///     never costs less than minting at once (and at most 1 wei more per extra part).
///   - Every rounding is up, so the holder always locks at least the exact integral of the step curve, which is itself
///     an upper bound of the smooth curve's integral.
///
/// Supply cap (a deploy parameter, maxSupplyWei, default 100,000 DIEM): validate() requires it to be a multiple of
/// CELL_WEI and rateWad(maxSupplyWei) <= MAX_RATE_WAD (4e55, i.e. 4e37 sVVV per DIEM). Every step of rateWad is
/// monotone in S, so every rate a mint uses is <= MAX_RATE_WAD, base * expWad(e) <= ~4e73, and
/// sum <= MAX_CELLS_PER_MINT * CELL_WEI * MAX_RATE_WAD = 256 * 1e19 * 4e55 < 1.03e77 < 2^256: nothing can overflow.
/// With the default curve the rate at 100,000 DIEM is ~6.1e17 sVVV per DIEM (exponent ~36.5), far above any VVV supply,
/// so the cap never binds in practice. (A fixed 150,000 DIEM cap does not work: with the default curve the exponent there
/// is ~123, base * expWad(e) overflows uint256 from ~135,000 DIEM, and the cost sum from ~130,000 DIEM. A fixed cap would
/// also forbid small operators' curves, e.g. target 1,000 DIEM, hence a parameter.)
library MintCurve {
    /// @notice The curve parameters.
    /// @param baseWad The rate at zero supply, sVVV per DIEM, scaled by 1e18 (default 90e18).
    /// @param powerWad The exponent multiplier, scaled by 1e18 (default 2e18).
    /// @param targetWei The supply at which the exponent equals `power`, in DIEM wei (default 38,000e18).
    /// @param maxSupplyWei No mint may take DIEM supply above this, in DIEM wei (default 100,000e18).
    struct Params {
        uint256 baseWad;
        uint256 powerWad;
        uint256 targetWei;
        uint256 maxSupplyWei;
    }

    uint256 internal constant WAD = 1e18;
    /// @notice Width of one pricing cell on the supply axis: 10 DIEM.
    uint256 internal constant CELL_WEI = 10e18;
    /// @notice A mint may touch at most this many cells (bounded work per call).
    uint256 internal constant MAX_CELLS_PER_MINT = 256;
    /// @notice The default supply cap (the curve's rate there is ~6.1e17 sVVV per DIEM).
    uint256 internal constant DEFAULT_MAX_SUPPLY_WEI = 100_000e18;
    /// @notice Highest maxSupplyWei accepted (1e9 DIEM), so that x^3 fits: x <= 1e27, x^2 <= 1e36, x3 <= 1e45.
    uint256 internal constant MAX_MAX_SUPPLY_WEI = 1e27;
    /// @notice Highest rate (at maxSupplyWei) accepted by validate(); keeps every cost sum below 2^256.
    uint256 internal constant MAX_RATE_WAD = 4e55;
    /// @notice expWad reverts at or above ~135.305e18; validate() keeps the exponent below this.
    uint256 internal constant MAX_EXPONENT_WAD = 135e18;
    /// @notice Lower bound on targetWei, so that x = S / target stays <= maxSupplyWei.
    uint256 internal constant MIN_TARGET_WEI = 1e18;
    /// @notice Upper bound on powerWad, so that powerWad * x3 <= 1e30 * 1e45 cannot overflow.
    uint256 internal constant MAX_POWER_WAD = 1e30;

    /// @notice A mint of zero DIEM.
    error MintCurveZeroAmount();
    /// @notice The mint would take DIEM supply above maxSupplyWei.
    error MintCurveSupplyCapExceeded(uint256 supplyWei, uint256 amountWei, uint256 maxSupplyWei);
    /// @notice The mint touches more than MAX_CELLS_PER_MINT cells; split it into several mints.
    error MintCurveTooManyCells(uint256 cells, uint256 maxCells);
    /// @notice The parameters are out of range (see validate()).
    error MintCurveInvalidParams(uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei);

    /// @notice Reverts unless `p` keeps every computation of this library inside uint256 up to p.maxSupplyWei.
    function validate(Params memory p) internal pure {
        if (
            p.baseWad == 0 || p.targetWei < MIN_TARGET_WEI || p.powerWad > MAX_POWER_WAD || p.maxSupplyWei == 0
                || p.maxSupplyWei > MAX_MAX_SUPPLY_WEI || p.maxSupplyWei % CELL_WEI != 0
        ) _revertInvalid(p);
        // With the bounds above no step of exponentWad can overflow (see the constants).
        uint256 exponentAtCapWad = exponentWad(p, p.maxSupplyWei);
        if (exponentAtCapWad >= MAX_EXPONENT_WAD) _revertInvalid(p);
        // The casts are exact: 0 <= exponentAtCapWad < 135e18 and expWad of a non-negative input is positive.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 expAtCapWad = uint256(FixedPointMathLib.expWad(int256(exponentAtCapWad)));
        // fullMulDivUp equals mulDivUp whenever the latter does not overflow, and never overflows itself here.
        if (FixedPointMathLib.fullMulDivUp(p.baseWad, expAtCapWad, WAD) > MAX_RATE_WAD) _revertInvalid(p);
    }

    /// @notice The exponent power * (S / target)^3, scaled by 1e18, every step rounded up (a higher price).
    function exponentWad(Params memory p, uint256 supplyWei) internal pure returns (uint256) {
        uint256 xWad = FixedPointMathLib.mulDivUp(supplyWei, WAD, p.targetWei);
        uint256 x3Wad = FixedPointMathLib.mulDivUp(FixedPointMathLib.mulDivUp(xWad, xWad, WAD), xWad, WAD);
        return FixedPointMathLib.mulDivUp(p.powerWad, x3Wad, WAD);
    }

    /// @notice The mint rate at supply `supplyWei`: sVVV wei per DIEM, scaled by 1e18, rounded up (a higher price).
    /// @dev With validated params and supplyWei <= maxSupplyWei nothing here can overflow or revert.
    function rateWad(Params memory p, uint256 supplyWei) internal pure returns (uint256) {
        uint256 eWad = exponentWad(p, supplyWei);
        // eWad < MAX_EXPONENT_WAD < 2^255 for validated params and supply <= cap, so the int256 cast is exact, and
        // expWad of a non-negative input is positive, so the uint256 cast is exact too.
        // forge-lint: disable-next-line(unsafe-typecast)
        return FixedPointMathLib.mulDivUp(p.baseWad, uint256(FixedPointMathLib.expWad(int256(eWad))), WAD);
    }

    /// @notice The sVVV wei to lock for minting `amountWei` DIEM starting at supply `supplyWei`.
    function cost(Params memory p, uint256 supplyWei, uint256 amountWei) internal pure returns (uint256 svvvWei) {
        if (amountWei == 0) revert MintCurveZeroAmount();
        if (supplyWei > p.maxSupplyWei || amountWei > p.maxSupplyWei - supplyWei) {
            revert MintCurveSupplyCapExceeded(supplyWei, amountWei, p.maxSupplyWei);
        }
        uint256 endWei = supplyWei + amountWei;
        uint256 firstCell = supplyWei / CELL_WEI;
        uint256 lastCell = (endWei - 1) / CELL_WEI;
        uint256 cells = lastCell - firstCell + 1;
        if (cells > MAX_CELLS_PER_MINT) revert MintCurveTooManyCells(cells, MAX_CELLS_PER_MINT);

        uint256 sumWeiWad;
        uint256 cursorWei = supplyWei;
        for (uint256 cell = firstCell; cell <= lastCell; ++cell) {
            uint256 rightEdgeWei = (cell + 1) * CELL_WEI;
            uint256 segmentEndWei = rightEdgeWei < endWei ? rightEdgeWei : endWei;
            // Checked: bounded by 256 * 1e19 * MAX_RATE_WAD < 2^256 (see the library header).
            sumWeiWad += (segmentEndWei - cursorWei) * rateWad(p, rightEdgeWei);
            cursorWei = segmentEndWei;
        }
        // Rounds up: the holder locks at least the exact price, in the protocol's favour.
        svvvWei = FixedPointMathLib.divUp(sumWeiWad, WAD);
    }

    function _revertInvalid(Params memory p) internal pure {
        revert MintCurveInvalidParams(p.baseWad, p.powerWad, p.targetWei, p.maxSupplyWei);
    }
}
