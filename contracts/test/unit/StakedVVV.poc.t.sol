// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Fixture} from "../utils/Fixture.sol";

/// @dev Proof of concept for issue 13, finding 1: an unbounded, instant setAnnualEmission. Compiles against the
/// contract before the fix (0705a80) as well: every owner entry point is reached by a low-level call, so the same
/// test shows the old contract failing and the fixed one passing.
///   Old: setAnnualEmission(type(uint256).max) succeeds; a few seconds later rewardPerTokenX18 overflows and every stake
///   change (stake, unstake, claim, mint, burn) reverts, as does the owner's own fix; any large rate mints without
///   limit; a change applies at once.
///   Fixed: no instant setter; a proposal is bounded by the ceiling and the per-change bound and waits out the delay.
contract StakedVVVPocTest is Fixture {
    /// @dev The default schedule (deploy.ts): ceiling 14M VVV/yr at launch, 20% of it per change, 2-day delay.
    uint256 internal constant POC_CEILING_WEI = 14_000_000e18;
    uint256 internal constant POC_MAX_CHANGE_WEI = POC_CEILING_WEI * 2_000 / 10_000;
    uint256 internal constant POC_DELAY_SECONDS = 2 days;

    address internal alice = makeAddr("alice");

    function setUp() public {
        deployAll();
        fund(alice, 1_000_000e18);
        vm.prank(alice);
        svvv.stake(1_000e18);
    }

    /// @dev Tries every owner entry point that could change the rate; returns whether any call succeeded.
    function _ownerSets(uint256 annualEmissionWei) internal returns (bool anyOk) {
        vm.prank(owner);
        (bool setOk,) = address(svvv).call(abi.encodeWithSignature("setAnnualEmission(uint256)", annualEmissionWei));
        vm.prank(owner);
        (bool proposeOk,) =
            address(svvv).call(abi.encodeWithSignature("proposeAnnualEmission(uint256)", annualEmissionWei));
        return setOk || proposeOk;
    }

    function _apply() internal returns (bool ok) {
        (ok,) = address(svvv).call(abi.encodeWithSignature("applyAnnualEmission()"));
    }

    /// @dev (a) The rate set to type(uint256).max: stake changes keep working and minting stays on the schedule.
    function test_setAnnualEmission_maxRateCannotFreezeStakeChanges() public {
        _ownerSets(type(uint256).max);
        skip(POC_DELAY_SECONDS);
        _apply();
        skip(10);

        vm.startPrank(alice);
        svvv.stake(1e18);
        svvv.claimRewards();
        svvv.initiateUnstake(1e18);
        vm.stopPrank();
        uint256 elapsedSeconds = block.timestamp - T0;
        assertLe(vvv.totalSupply() - GENESIS_WEI, POC_CEILING_WEI * elapsedSeconds / YEAR);
    }

    /// @dev (a) A large rate that does not overflow: the VVV minted stays within the ceiling's schedule.
    function test_setAnnualEmission_largeRateCannotMintBeyondSchedule() public {
        _ownerSets(1e40);
        skip(POC_DELAY_SECONDS);
        _apply();
        skip(1 days);

        vm.prank(alice);
        svvv.claimRewards();
        uint256 elapsedSeconds = block.timestamp - T0;
        assertLe(vvv.totalSupply() - GENESIS_WEI, POC_CEILING_WEI * elapsedSeconds / YEAR);
    }

    /// @dev (b) Not above the ceiling, not beyond the per-change bound, and not before the delay.
    function test_setAnnualEmission_boundedByCeilingStepAndDelay() public {
        assertFalse(_ownerSets(POC_CEILING_WEI + 1), "above the ceiling");
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);

        assertFalse(_ownerSets(ANNUAL_EMISSION_WEI - POC_MAX_CHANGE_WEI - 1), "beyond the per-change bound");
        skip(POC_DELAY_SECONDS);
        _apply();
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);

        // A legal change waits out the delay.
        assertTrue(_ownerSets(ANNUAL_EMISSION_WEI + POC_MAX_CHANGE_WEI));
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI, "applied before the delay");
        skip(POC_DELAY_SECONDS - 1);
        assertFalse(_apply(), "applied one second early");
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);
        skip(1);
        assertTrue(_apply());
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI + POC_MAX_CHANGE_WEI);
    }
}
