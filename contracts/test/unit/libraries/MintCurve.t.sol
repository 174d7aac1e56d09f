// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MintCurve} from "../../../src/libraries/MintCurve.sol";

/// @dev Exposes the library through external calls so that reverts can be expected.
contract MintCurveHarness {
    function params(uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei)
        public
        pure
        returns (MintCurve.Params memory)
    {
        return MintCurve.Params({baseWad: baseWad, powerWad: powerWad, targetWei: targetWei, maxSupplyWei: maxSupplyWei});
    }

    function rateWad(uint256 supplyWei) external pure returns (uint256) {
        return MintCurve.rateWad(params(90e18, 2e18, 38_000e18, 100_000e18), supplyWei);
    }

    function cost(uint256 supplyWei, uint256 amountWei) external pure returns (uint256) {
        return MintCurve.cost(params(90e18, 2e18, 38_000e18, 100_000e18), supplyWei, amountWei);
    }

    function validate(uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei) external pure {
        MintCurve.validate(params(baseWad, powerWad, targetWei, maxSupplyWei));
    }
}

contract MintCurveTest is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant CELL_WEI = 10e18;
    uint256 internal constant MAX_SUPPLY_WEI = 100_000e18;
    MintCurveHarness internal curve;

    function setUp() public {
        curve = new MintCurveHarness();
    }

    // ------------------------------------------------------------ rateWad: the check values of the design

    function test_rateWad_atZeroSupplyIsBase() public view {
        assertEq(curve.rateWad(0), 90e18);
    }

    function test_rateWad_at10000Is93_34() public view {
        assertApproxEqAbs(curve.rateWad(10_000e18), 93.34e18, 0.005e18);
    }

    function test_rateWad_atTargetIs665_02() public view {
        assertApproxEqAbs(curve.rateWad(38_000e18), 665.02e18, 0.005e18);
    }

    function test_rateWad_atCapFitsTheOverflowBound() public view {
        uint256 rateAtCapWad = curve.rateWad(MAX_SUPPLY_WEI);
        assertLe(rateAtCapWad, MintCurve.MAX_RATE_WAD);
        // The worst cost sum (256 full cells at the cap rate) fits in uint256.
        assertLt(rateAtCapWad, type(uint256).max / (MintCurve.MAX_CELLS_PER_MINT * CELL_WEI));
    }

    /// @dev Golden values for the TypeScript mirror (src/core); these must stay bit-exact.
    function test_rateWad_goldenValues() public view {
        assertEq(curve.rateWad(1), 90000000000000000180);
        assertEq(curve.rateWad(10e18), 90000000003280361580);
        assertEq(curve.rateWad(10_000e18), 93340876623854780790);
        assertEq(curve.rateWad(38_000e18), 665015048903758520430);
        assertEq(curve.rateWad(100_000e18), 607586863591124192439336473808753960);
    }

    /// @dev Golden values for the TypeScript mirror (src/core); these must stay bit-exact.
    function test_cost_goldenValues() public view {
        assertEq(curve.cost(0, 1), 91);
        assertEq(curve.cost(0, 1e18), 90000000003280361580);
        assertEq(curve.cost(5e18, 17e18), 1530000000455970259260);
        assertEq(curve.cost(37_995e18, 2_000e18), 1573531978380628153849200);
        assertEq(curve.cost(97_440e18, 2_560e18), 530134519104207820703979310653081198900);
    }

    // ------------------------------------------------------------ cost

    function test_cost_zeroAmountReverts() public {
        vm.expectRevert(MintCurve.MintCurveZeroAmount.selector);
        curve.cost(0, 0);
    }

    function test_cost_oneCellIsRightEdgeRate() public view {
        // 1 DIEM inside cell 0 costs rate(10 DIEM) exactly (no remainder to round).
        uint256 expected = (1e18 * curve.rateWad(CELL_WEI) + WAD - 1) / WAD;
        assertEq(curve.cost(0, 1e18), expected);
    }

    function test_cost_oneWeiRoundsUp() public view {
        // 1 wei at ~90 sVVV per DIEM: the exact price is 90.000...0243 wei, charged 91.
        assertEq(curve.cost(0, 1), 91);
    }

    function test_cost_spansCellsAtTheirOwnRates() public view {
        uint256 sum = 5e18 * curve.rateWad(10e18) + 10e18 * curve.rateWad(20e18) + 2e18 * curve.rateWad(30e18);
        assertEq(curve.cost(5e18, 17e18), (sum + WAD - 1) / WAD);
    }

    function test_cost_exactlyMaxCellsSucceeds() public view {
        assertGt(curve.cost(0, 256 * CELL_WEI), 0);
        // Unaligned start: 255 full cells plus two partial ones would be 257; 1 wei short of 256 cells is fine.
        assertGt(curve.cost(5e18, 255 * CELL_WEI), 0);
    }

    function test_cost_tooManyCellsReverts() public {
        vm.expectRevert(abi.encodeWithSelector(MintCurve.MintCurveTooManyCells.selector, 257, 256));
        curve.cost(0, 256 * CELL_WEI + 1);
        vm.expectRevert(abi.encodeWithSelector(MintCurve.MintCurveTooManyCells.selector, 257, 256));
        curve.cost(5e18, 256 * CELL_WEI);
    }

    function test_cost_upToCapSucceeds() public view {
        assertGt(curve.cost(MAX_SUPPLY_WEI - 256 * CELL_WEI, 256 * CELL_WEI), 0);
        assertGt(curve.cost(MAX_SUPPLY_WEI - 1, 1), 0);
    }

    function test_cost_aboveCapReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(MintCurve.MintCurveSupplyCapExceeded.selector, MAX_SUPPLY_WEI, 1, MAX_SUPPLY_WEI)
        );
        curve.cost(MAX_SUPPLY_WEI, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                MintCurve.MintCurveSupplyCapExceeded.selector, 0, type(uint256).max, MAX_SUPPLY_WEI
            )
        );
        curve.cost(0, type(uint256).max);
    }

    // ------------------------------------------------------------ validate

    function test_validate_defaultsPass() public view {
        curve.validate(90e18, 2e18, 38_000e18, 100_000e18);
        curve.validate(1, 0, 1e18, 1e27);
        // A small operator's curve: target 1,000 DIEM, capped at 3,000 DIEM.
        curve.validate(90e18, 2e18, 1_000e18, 3_000e18);
    }

    function test_validate_defaultCurveAt150000Reverts() public {
        // The rate at 150,000 DIEM (exponent ~123) is beyond MAX_RATE_WAD: base * expWad(e) would overflow.
        _expectInvalid(90e18, 2e18, 38_000e18, 150_000e18);
    }

    function test_validate_zeroBaseReverts() public {
        _expectInvalid(0, 2e18, 38_000e18, 100_000e18);
    }

    function test_validate_tinyTargetReverts() public {
        _expectInvalid(90e18, 2e18, 1e18 - 1, 100_000e18);
    }

    function test_validate_hugePowerReverts() public {
        _expectInvalid(90e18, 1e30 + 1, 38_000e18, 100_000e18);
    }

    function test_validate_badMaxSupplyReverts() public {
        _expectInvalid(90e18, 2e18, 38_000e18, 0);
        _expectInvalid(90e18, 2e18, 38_000e18, 100_000e18 + 1);
        _expectInvalid(90e18, 0, 38_000e18, 1e27 + 10e18);
    }

    function test_validate_exponentOverflowAtCapReverts() public {
        // power 8: the exponent at the cap is ~145.8, past the 135 where expWad would overflow.
        _expectInvalid(90e18, 8e18, 38_000e18, 100_000e18);
    }

    function test_validate_rateAboveBoundAtCapReverts() public {
        // Exponent ~81.5 at 130,000 DIEM passes with base 90 but not with base 900.
        curve.validate(90e18, 2e18, 38_000e18, 130_000e18);
        _expectInvalid(900e18, 2e18, 38_000e18, 130_000e18);
    }

    function _expectInvalid(uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                MintCurve.MintCurveInvalidParams.selector, baseWad, powerWad, targetWei, maxSupplyWei
            )
        );
        curve.validate(baseWad, powerWad, targetWei, maxSupplyWei);
    }

    // ------------------------------------------------------------ fuzz

    function testFuzz_rateWad_monotone(uint256 lowWei, uint256 highWei) public view {
        lowWei = bound(lowWei, 0, MAX_SUPPLY_WEI);
        highWei = bound(highWei, lowWei, MAX_SUPPLY_WEI);
        assertLe(curve.rateWad(lowWei), curve.rateWad(highWei));
    }

    function testFuzz_cost_atLeastExactIntegralLowerBound(uint256 supplyWei, uint256 amountWei) public view {
        supplyWei = bound(supplyWei, 0, MAX_SUPPLY_WEI - 1);
        amountWei = bound(amountWei, 1, _min(100 * CELL_WEI, MAX_SUPPLY_WEI - supplyWei));
        uint256 costWei = curve.cost(supplyWei, amountWei);
        // Every cell is priced at least at the rate at the start of the mint: cost >= amount * rate(S) / WAD.
        assertGe(costWei, amountWei * curve.rateWad(supplyWei) / WAD);
        // ... and at most at the right-edge rate of the last cell, plus the one rounding.
        uint256 lastEdgeWei = ((supplyWei + amountWei - 1) / CELL_WEI + 1) * CELL_WEI;
        assertLe(costWei, (amountWei * curve.rateWad(lastEdgeWei) + WAD - 1) / WAD);
        assertGt(costWei, 0);
    }

    function testFuzz_cost_splitNeverCheaper(uint256 supplyWei, uint256 firstWei, uint256 secondWei) public view {
        supplyWei = bound(supplyWei, 0, MAX_SUPPLY_WEI - 2);
        uint256 roomWei = _min(120 * CELL_WEI, MAX_SUPPLY_WEI - supplyWei);
        firstWei = bound(firstWei, 1, roomWei - 1);
        secondWei = bound(secondWei, 1, roomWei - firstWei);
        uint256 wholeWei = curve.cost(supplyWei, firstWei + secondWei);
        uint256 partsWei = curve.cost(supplyWei, firstWei) + curve.cost(supplyWei + firstWei, secondWei);
        assertGe(partsWei, wholeWei);
        // Additivity bound: the parts cost at most one extra wei (one extra rounding).
        assertLe(partsWei, wholeWei + 1);
    }

    function testFuzz_cost_monotoneInAmount(uint256 supplyWei, uint256 amountWei, uint256 extraWei) public view {
        supplyWei = bound(supplyWei, 0, MAX_SUPPLY_WEI - 2);
        uint256 roomWei = _min(120 * CELL_WEI, MAX_SUPPLY_WEI - supplyWei);
        amountWei = bound(amountWei, 1, roomWei - 1);
        extraWei = bound(extraWei, 1, roomWei - amountWei);
        assertLe(curve.cost(supplyWei, amountWei), curve.cost(supplyWei, amountWei + extraWei));
    }

    function testFuzz_cost_monotoneInSupply(uint256 supplyWei, uint256 shiftWei, uint256 amountWei) public view {
        amountWei = bound(amountWei, 1, 50 * CELL_WEI);
        supplyWei = bound(supplyWei, 0, MAX_SUPPLY_WEI - amountWei);
        shiftWei = bound(shiftWei, 0, MAX_SUPPLY_WEI - amountWei - supplyWei);
        assertLe(curve.cost(supplyWei, amountWei), curve.cost(supplyWei + shiftWei, amountWei));
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
