// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {StakedVVVTestBase} from "./StakedVVVBase.t.sol";
import {StakedVVV} from "../../src/StakedVVV.sol";
import {IStakedVVV} from "../../src/interfaces/IStakedVVV.sol";

/// @dev The emission schedule (a ceiling falling per 365-day step), the timelocked bounded changes, and Ownable2Step.
contract StakedVVVEmissionsTest is StakedVVVTestBase {
    /// @dev 20% of the launch ceiling.
    uint256 internal constant STEP_WEI = MAX_ANNUAL_EMISSION_WEI * MAX_EMISSION_CHANGE_BPS / 10_000;

    // ------------------------------------------------------------ schedule

    function test_emissionCeilingAt_fallsOncePerStep() public view {
        assertEq(svvv.emissionCeilingAt(0), 14_000_000e18);
        assertEq(svvv.emissionCeilingAt(T0), 14_000_000e18);
        assertEq(svvv.emissionCeilingAt(T0 + YEAR - 1), 14_000_000e18);
        assertEq(svvv.emissionCeilingAt(T0 + YEAR), 11_900_000e18);
        assertEq(svvv.emissionCeilingAt(T0 + 2 * YEAR), 10_115_000e18);
        assertEq(svvv.emissionCeilingAt(T0 + 3 * YEAR), 8_597_750e18);
        assertEq(svvv.emissionCeilingAt(T0 + 10 * YEAR + 5 days), _ceilingOfStep(10));
    }

    function test_emissionCeilingWei_followsTheClock() public {
        skip(YEAR);
        assertEq(svvv.emissionCeilingWei(), 11_900_000e18);
        assertEq(svvv.effectiveAnnualEmissionWei(), ANNUAL_EMISSION_WEI);
        skip(2 * YEAR);
        assertEq(svvv.emissionCeilingWei(), 8_597_750e18);
        // The ceiling binds without the owner doing anything.
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);
        assertEq(svvv.effectiveAnnualEmissionWei(), 8_597_750e18);
    }

    /// @dev After an accrual moved the cursor forward, past steps are still answered from launch.
    function test_emissionCeilingAt_pastStepAfterCursorMoved() public {
        _stake(alice, 100e18);
        skip(3 * YEAR);
        _claim(alice);
        assertEq(svvv.emissionCeilingAt(T0 + YEAR), 11_900_000e18);
        assertEq(svvv.emissionCeilingAt(block.timestamp), 8_597_750e18);
    }

    /// @dev ceiling(k) = max * (1 - decay)^k rounded down (at most 1 wei per step below the exact value), non-increasing.
    function testFuzz_emissionCeilingAt_exactScheduleRoundedDown(uint256 maxWei, uint256 decayBps, uint256 step)
        public
    {
        maxWei = bound(maxWei, 0, type(uint128).max);
        decayBps = bound(decayBps, 0, 10_000);
        step = bound(step, 0, 15);
        IStakedVVV.Config memory config = defaultConfig();
        config.maxAnnualEmissionWei = maxWei;
        config.annualEmissionWei = 0;
        config.emissionDecayBps = decayBps;
        StakedVVV staked = new StakedVVV(vvv, diem, owner, config);
        // (10,000 - decay)^15 <= 1e60: the exact value max * keep^k / 10,000^k in one mulDiv.
        uint256 exactWei = Math.mulDiv(maxWei, (10_000 - decayBps) ** step, 10_000 ** step);
        uint256 ceilingWei = staked.emissionCeilingAt(T0 + step * YEAR);
        assertLe(ceilingWei, exactWei);
        assertGe(ceilingWei + step, exactWei);
        assertLe(staked.emissionCeilingAt(T0 + (step + 1) * YEAR), ceilingWei);
    }

    function test_claimRewards_accruesPerSegmentAcrossAStep() public {
        _stake(alice, 100e18);
        skip(3 * YEAR - 1 days);
        _claim(alice);
        // One day at the rate (10M < 10.115M), then one day at the step-3 ceiling (8.59775M < 10M).
        skip(2 days);
        uint256 expectedWei = (ANNUAL_EMISSION_WEI + 8_597_750e18) * 1 days / YEAR;
        uint256 earnedWei = svvv.earned(alice);
        assertApproxEqAbs(earnedWei, expectedWei, 1e6);
        assertLe(earnedWei, expectedWei);
        assertEq(_claim(alice), earnedWei);
    }

    function test_earned_idleYearsIntegrateEveryStep() public {
        _stake(alice, 100e18);
        skip(10 * YEAR + 100 days);
        uint256 expectedWei;
        for (uint256 k; k < 10; ++k) {
            expectedWei += Math.min(ANNUAL_EMISSION_WEI, _ceilingOfStep(k)) * YEAR;
        }
        expectedWei = (expectedWei + Math.min(ANNUAL_EMISSION_WEI, _ceilingOfStep(10)) * 100 days) / YEAR;
        assertApproxEqAbs(svvv.earned(alice), expectedWei, 1e6);
        assertLe(svvv.earned(alice), expectedWei);
    }

    function test_claimRewards_fullDecayStopsEmissionsAfterFirstStep() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.emissionDecayBps = 10_000;
        deployAllWith(config);
        fund(alice, 1_000e18);
        _stake(alice, 100e18);
        skip(5 * YEAR);
        assertEq(svvv.emissionCeilingWei(), 0);
        assertEq(svvv.effectiveAnnualEmissionWei(), 0);
        uint256 earnedWei = _claim(alice);
        assertApproxEqAbs(earnedWei, ANNUAL_EMISSION_WEI, 1e6);
        skip(YEAR);
        assertEq(svvv.earned(alice), 0);
    }

    /// @dev Three stretches of random length (crossing steps), the staker claiming in between: what it gets stays
    /// within the integral of min(rate, ceiling), and a sole staker gets all of it but rounding.
    function testFuzz_claimRewards_withinScheduleIntegral(uint256[3] memory stretchesSeconds) public {
        _stake(alice, 100e18);
        uint256 claimedWei;
        uint256 integralWeiSeconds;
        for (uint256 i; i < 3; ++i) {
            uint256 fromTs = block.timestamp;
            skip(bound(stretchesSeconds[i], 0, 3 * YEAR));
            integralWeiSeconds += _scheduleIntegral(fromTs, block.timestamp);
            claimedWei += _claim(alice);
        }
        assertLe(claimedWei, integralWeiSeconds / YEAR);
        assertApproxEqAbs(claimedWei, integralWeiSeconds / YEAR, 1e6);
    }

    /// @dev ∫ min(ANNUAL_EMISSION_WEI, ceiling(t)) dt over [fromTs, toTs), per step, in wei·seconds.
    function _scheduleIntegral(uint256 fromTs, uint256 toTs) internal pure returns (uint256 integralWeiSeconds) {
        while (fromTs < toTs) {
            uint256 step = (fromTs - T0) / YEAR;
            uint256 endTs = Math.min(toTs, T0 + (step + 1) * YEAR);
            integralWeiSeconds += Math.min(ANNUAL_EMISSION_WEI, _ceilingOfStep(step)) * (endTs - fromTs);
            fromTs = endTs;
        }
    }

    // ------------------------------------------------------------ proposeAnnualEmission

    function test_proposeAnnualEmission_queuesUntilTheDelay() public {
        vm.expectEmit(address(svvv));
        emit IStakedVVV.AnnualEmissionProposed(12_000_000e18, T0 + EMISSION_CHANGE_DELAY);
        _propose(12_000_000e18);
        (uint256 pendingWei, uint256 effectiveAt) = svvv.pendingAnnualEmission();
        assertEq(pendingWei, 12_000_000e18);
        assertEq(effectiveAt, T0 + EMISSION_CHANGE_DELAY);
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);
    }

    function test_proposeAnnualEmission_notOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        svvv.proposeAnnualEmission(1);
    }

    function test_proposeAnnualEmission_aboveCeilingReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionAboveCeiling.selector, MAX_ANNUAL_EMISSION_WEI + 1, MAX_ANNUAL_EMISSION_WEI
            )
        );
        _propose(MAX_ANNUAL_EMISSION_WEI + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionAboveCeiling.selector, type(uint256).max, MAX_ANNUAL_EMISSION_WEI
            )
        );
        _propose(type(uint256).max);
    }

    function test_proposeAnnualEmission_beyondChangeBoundReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionChangeTooLarge.selector,
                ANNUAL_EMISSION_WEI,
                ANNUAL_EMISSION_WEI + STEP_WEI + 1,
                STEP_WEI
            )
        );
        _propose(ANNUAL_EMISSION_WEI + STEP_WEI + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionChangeTooLarge.selector,
                ANNUAL_EMISSION_WEI,
                ANNUAL_EMISSION_WEI - STEP_WEI - 1,
                STEP_WEI
            )
        );
        _propose(ANNUAL_EMISSION_WEI - STEP_WEI - 1);
    }

    function test_proposeAnnualEmission_atChangeBoundSucceeds() public {
        _changeEmission(ANNUAL_EMISSION_WEI + STEP_WEI);
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI + STEP_WEI);
        _changeEmission(ANNUAL_EMISSION_WEI);
        _changeEmission(ANNUAL_EMISSION_WEI - STEP_WEI);
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI - STEP_WEI);
    }

    function test_proposeAnnualEmission_secondProposalReverts() public {
        _propose(11_000_000e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionChangePending.selector, 11_000_000e18, T0 + EMISSION_CHANGE_DELAY
            )
        );
        _propose(9_000_000e18);
    }

    /// @dev The ceiling of the effective time counts: a proposal that would apply after the step is held to it.
    function test_proposeAnnualEmission_checksCeilingAtEffectiveTime() public {
        skip(YEAR - 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVEmissionAboveCeiling.selector, 12_000_000e18, 11_900_000e18)
        );
        _propose(12_000_000e18);
    }

    /// @dev A rate at 0 can rise again, by up to the bound of the ceiling per change.
    function test_proposeAnnualEmission_zeroRateCanRise() public {
        _changeEmission(ANNUAL_EMISSION_WEI - STEP_WEI);
        _changeEmission(ANNUAL_EMISSION_WEI - 2 * STEP_WEI);
        _changeEmission(ANNUAL_EMISSION_WEI - 3 * STEP_WEI);
        _changeEmission(0);
        assertEq(svvv.effectiveAnnualEmissionWei(), 0);
        _changeEmission(STEP_WEI);
        assertEq(svvv.annualEmissionWei(), STEP_WEI);
    }

    /// @dev Above a fallen ceiling, the rate is measured from the ceiling, so the owner can still lower it.
    function test_proposeAnnualEmission_fromAboveFallenCeiling() public {
        skip(3 * YEAR);
        uint256 ceilingWei = svvv.emissionCeilingWei();
        uint256 stepWei = ceilingWei * MAX_EMISSION_CHANGE_BPS / 10_000;
        _changeEmission(ceilingWei - stepWei);
        assertEq(svvv.annualEmissionWei(), ceilingWei - stepWei);
    }

    function testFuzz_proposeAnnualEmission_withinBoundsIffAccepted(uint256 proposedWei, uint256 atSeconds) public {
        proposedWei = bound(proposedWei, 0, 2 * MAX_ANNUAL_EMISSION_WEI);
        skip(bound(atSeconds, 0, 5 * YEAR));
        uint256 ceilingWei = svvv.emissionCeilingAt(block.timestamp + EMISSION_CHANGE_DELAY);
        uint256 currentWei = Math.min(ANNUAL_EMISSION_WEI, ceilingWei);
        uint256 changeWei = proposedWei > currentWei ? proposedWei - currentWei : currentWei - proposedWei;
        bool allowed = proposedWei <= ceilingWei && changeWei <= ceilingWei * MAX_EMISSION_CHANGE_BPS / 10_000;
        vm.prank(owner);
        (bool ok,) = address(svvv).call(abi.encodeCall(IStakedVVV.proposeAnnualEmission, (proposedWei)));
        assertEq(ok, allowed);
    }

    // ------------------------------------------------------------ cancelAnnualEmission

    function test_cancelAnnualEmission_dropsTheProposal() public {
        _propose(11_000_000e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.AnnualEmissionCancelled(11_000_000e18, T0 + EMISSION_CHANGE_DELAY);
        vm.prank(owner);
        svvv.cancelAnnualEmission();
        (uint256 pendingWei, uint256 effectiveAt) = svvv.pendingAnnualEmission();
        assertEq(pendingWei, 0);
        assertEq(effectiveAt, 0);
        skip(EMISSION_CHANGE_DELAY);
        vm.expectRevert(IStakedVVV.StakedVVVNoEmissionChangePending.selector);
        svvv.applyAnnualEmission();
        _propose(9_000_000e18);
    }

    function test_cancelAnnualEmission_nothingPendingReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVNoEmissionChangePending.selector);
        vm.prank(owner);
        svvv.cancelAnnualEmission();
    }

    function test_cancelAnnualEmission_notOwnerReverts() public {
        _propose(11_000_000e18);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        svvv.cancelAnnualEmission();
    }

    // ------------------------------------------------------------ applyAnnualEmission

    function test_applyAnnualEmission_tooEarlyReverts() public {
        _propose(11_000_000e18);
        skip(EMISSION_CHANGE_DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVEmissionChangeNotReady.selector, T0 + EMISSION_CHANGE_DELAY)
        );
        svvv.applyAnnualEmission();
    }

    function test_applyAnnualEmission_anyoneAfterTheDelay() public {
        _propose(11_000_000e18);
        skip(EMISSION_CHANGE_DELAY);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.AnnualEmissionSet(ANNUAL_EMISSION_WEI, 11_000_000e18);
        vm.prank(bob);
        svvv.applyAnnualEmission();
        assertEq(svvv.annualEmissionWei(), 11_000_000e18);
        (, uint256 effectiveAt) = svvv.pendingAnnualEmission();
        assertEq(effectiveAt, 0);
    }

    function test_applyAnnualEmission_nothingPendingReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVNoEmissionChangePending.selector);
        svvv.applyAnnualEmission();
    }

    function test_applyAnnualEmission_accruesAtOldRateFirst() public {
        _stake(alice, 100e18);
        _propose(ANNUAL_EMISSION_WEI - STEP_WEI);
        skip(EMISSION_CHANGE_DELAY + 1 days);
        svvv.applyAnnualEmission();
        uint256 earnedWei = svvv.earned(alice);
        assertApproxEqAbs(earnedWei, ANNUAL_EMISSION_WEI * 3 days / YEAR, 1e6);
        skip(1 days);
        assertApproxEqAbs(svvv.earned(alice) - earnedWei, (ANNUAL_EMISSION_WEI - STEP_WEI) * 1 days / YEAR, 1e6);
    }

    /// @dev Applied late, after a step: the new, lower ceiling holds; the proposal stays pending until cancelled.
    function test_applyAnnualEmission_rechecksCeilingAtApplyTime() public {
        skip(YEAR - 3 days);
        _propose(12_500_000e18);
        skip(4 days);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVEmissionAboveCeiling.selector, 12_500_000e18, 11_900_000e18)
        );
        svvv.applyAnnualEmission();
        (uint256 pendingWei,) = svvv.pendingAnnualEmission();
        assertEq(pendingWei, 12_500_000e18);
        vm.prank(owner);
        svvv.cancelAnnualEmission();
    }

    /// @dev Applied late, after a step: the bound (20% of the fallen ceiling) is checked again.
    function test_applyAnnualEmission_rechecksBoundAtApplyTime() public {
        skip(YEAR - 3 days);
        _propose(ANNUAL_EMISSION_WEI - STEP_WEI);
        skip(4 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionChangeTooLarge.selector,
                ANNUAL_EMISSION_WEI,
                ANNUAL_EMISSION_WEI - STEP_WEI,
                11_900_000e18 * MAX_EMISSION_CHANGE_BPS / 10_000
            )
        );
        svvv.applyAnnualEmission();
    }

    // ------------------------------------------------------------ Ownable2Step

    function test_transferOwnership_needsAcceptance() public {
        vm.prank(owner);
        svvv.transferOwnership(bob);
        assertEq(svvv.owner(), owner);
        assertEq(svvv.pendingOwner(), bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        svvv.proposeAnnualEmission(11_000_000e18);

        vm.prank(bob);
        svvv.acceptOwnership();
        assertEq(svvv.owner(), bob);
        assertEq(svvv.pendingOwner(), address(0));
        vm.prank(bob);
        svvv.proposeAnnualEmission(11_000_000e18);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, owner));
        vm.prank(owner);
        svvv.cancelAnnualEmission();
    }

    function test_acceptOwnership_onlyPendingOwner() public {
        vm.prank(owner);
        svvv.transferOwnership(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        svvv.acceptOwnership();
    }

    /// @dev VVV and Diem use Ownable2Step too.
    function test_transferOwnership_vvvAndDiemNeedAcceptance() public {
        vm.startPrank(owner);
        vvv.transferOwnership(bob);
        diem.transferOwnership(bob);
        vm.stopPrank();
        assertEq(vvv.owner(), owner);
        assertEq(diem.owner(), owner);
        vm.startPrank(bob);
        vvv.acceptOwnership();
        diem.acceptOwnership();
        vm.stopPrank();
        assertEq(vvv.owner(), bob);
        assertEq(diem.owner(), bob);
    }
}
