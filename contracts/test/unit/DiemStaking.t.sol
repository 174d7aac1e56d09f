// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";
import {IDiemStaking} from "../../src/interfaces/IDiemStaking.sol";

contract DiemStakingTest is Test {
    uint256 internal constant EPOCH = 86_400;
    uint256 internal constant MIN_ALLOWANCE = 0.1e18;
    /// @dev 2026-01-01T00:00:00Z, an epoch boundary.
    uint256 internal constant T0 = 1_767_225_600;

    Diem internal diem;
    DiemStaking internal staking;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        vm.warp(T0);
        diem = new Diem(address(this));
        diem.setMinter(address(this));
        staking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, MIN_ALLOWANCE);
        _fund(alice, 1_000e18);
        _fund(bob, 1_000e18);
    }

    function _fund(address account, uint256 amountWei) internal {
        diem.mint(account, amountWei);
        vm.prank(account);
        diem.approve(address(staking), type(uint256).max);
    }

    function _stake(address account, uint256 amountWei) internal {
        vm.prank(account);
        staking.stake(amountWei);
    }

    function _unstake(address account, uint256 amountWei) internal {
        vm.prank(account);
        staking.initiateUnstake(amountWei);
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public view {
        assertEq(address(staking.diem()), address(diem));
        assertEq(staking.epochSeconds(), EPOCH);
        assertEq(staking.cooldownSeconds(), EPOCH);
        assertEq(staking.minAllowanceWei(), MIN_ALLOWANCE);
        assertEq(staking.currentEpoch(), T0 / EPOCH);
    }

    function test_constructor_cooldownShorterThanEpochReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownShorterThanEpoch.selector, EPOCH - 1, EPOCH)
        );
        new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH - 1, MIN_ALLOWANCE);
    }

    function test_constructor_zeroEpochReverts() public {
        vm.expectRevert(IDiemStaking.DiemStakingZeroEpoch.selector);
        new DiemStaking(IERC20(address(diem)), 0, EPOCH, MIN_ALLOWANCE);
    }

    function test_constructor_zeroTokenReverts() public {
        vm.expectRevert(IDiemStaking.DiemStakingZeroAddress.selector);
        new DiemStaking(IERC20(address(0)), EPOCH, EPOCH, MIN_ALLOWANCE);
    }

    // ------------------------------------------------------------ stake

    function test_stake_movesTokensAndCountsAtOnce() public {
        vm.expectEmit(address(staking));
        emit IDiemStaking.StakeCheckpointed(alice, T0 / EPOCH, 10e18, 10e18);
        vm.expectEmit(address(staking));
        emit IDiemStaking.Staked(alice, 10e18, 10e18);
        _stake(alice, 10e18);
        assertEq(staking.stakedOf(alice), 10e18);
        assertEq(staking.totalStaked(), 10e18);
        assertEq(diem.balanceOf(address(staking)), 10e18);
        assertEq(staking.allowanceOf(alice, staking.currentEpoch()), 10e18);
        assertEq(staking.nextEpochAllowanceOf(alice), 10e18);
    }

    function test_stake_zeroReverts() public {
        vm.expectRevert(IDiemStaking.DiemStakingZeroAmount.selector);
        _stake(alice, 0);
    }

    function test_stake_withoutApprovalReverts() public {
        address carol = makeAddr("carol");
        diem.mint(carol, 1e18);
        vm.expectRevert();
        _stake(carol, 1e18);
    }

    function test_stake_aboveUint104Reverts() public {
        address whale = makeAddr("whale");
        _fund(whale, uint256(type(uint104).max) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                SafeCast.SafeCastOverflowedUintDowncast.selector, 104, uint256(type(uint104).max) + 1
            )
        );
        _stake(whale, uint256(type(uint104).max) + 1);
    }

    // ------------------------------------------------------------ initiateUnstake

    function test_initiateUnstake_keepsThisEpochsPeak() public {
        _stake(alice, 10e18);
        uint256 epoch = staking.currentEpoch();
        vm.expectEmit(address(staking));
        emit IDiemStaking.UnstakeInitiated(alice, 4e18, 4e18, block.timestamp + EPOCH);
        _unstake(alice, 4e18);
        assertEq(staking.stakedOf(alice), 6e18);
        assertEq(staking.totalStaked(), 6e18);
        assertEq(staking.totalCooling(), 4e18);
        assertEq(staking.allowanceOf(alice, epoch), 10e18);
        assertEq(staking.nextEpochAllowanceOf(alice), 6e18);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(alice);
        assertEq(coolingWei, 4e18);
        assertEq(endsAt, block.timestamp + EPOCH);
        skip(EPOCH);
        assertEq(staking.allowanceOf(alice, epoch + 1), 6e18);
    }

    /// @dev The case a projection would get wrong: an unstake in the last second of an epoch lowers the next one.
    function test_initiateUnstake_lastSecondLowersNextEpoch() public {
        _stake(alice, 10e18);
        uint256 epoch = staking.currentEpoch();
        skip(EPOCH - 1);
        assertEq(staking.nextEpochAllowanceOf(alice), 10e18);
        _unstake(alice, 10e18);
        assertEq(staking.nextEpochAllowanceOf(alice), 0);
        skip(1);
        assertEq(staking.allowanceOf(alice, epoch), 10e18);
        assertEq(staking.allowanceOf(alice, epoch + 1), 0);
    }

    function test_initiateUnstake_restartsTimerForEverythingCooling() public {
        _stake(alice, 10e18);
        _unstake(alice, 4e18);
        skip(EPOCH - 1);
        _unstake(alice, 1e18);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(alice);
        assertEq(coolingWei, 5e18);
        assertEq(endsAt, block.timestamp + EPOCH);
        skip(1);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownActive.selector, endsAt));
        vm.prank(alice);
        staking.withdraw();
    }

    /// @dev Unstaking again shortly before an earlier cooldown ends: the old end no longer pays anything.
    function test_initiateUnstake_restartedTimerHoldsAtOldEnd() public {
        _stake(alice, 10e18);
        _unstake(alice, 4e18);
        uint256 oldEndsAt = block.timestamp + EPOCH;
        vm.warp(oldEndsAt - 60);
        _unstake(alice, 6e18);
        uint256 newEndsAt = oldEndsAt - 60 + EPOCH;
        vm.warp(oldEndsAt);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownActive.selector, newEndsAt));
        vm.prank(alice);
        staking.withdraw();
        vm.warp(newEndsAt);
        vm.prank(alice);
        assertEq(staking.withdraw(), 10e18);
    }

    function test_initiateUnstake_zeroReverts() public {
        vm.expectRevert(IDiemStaking.DiemStakingZeroAmount.selector);
        _unstake(alice, 0);
    }

    function test_initiateUnstake_moreThanStakedReverts() public {
        _stake(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingInsufficientStake.selector, 2e18, 1e18));
        _unstake(alice, 2e18);
    }

    // ------------------------------------------------------------ withdraw

    function test_withdraw_afterCooldownPaysOut() public {
        _stake(alice, 10e18);
        _unstake(alice, 10e18);
        skip(EPOCH);
        vm.expectEmit(address(staking));
        emit IDiemStaking.Withdrawn(alice, 10e18);
        vm.prank(alice);
        assertEq(staking.withdraw(), 10e18);
        assertEq(diem.balanceOf(alice), 1_000e18);
        assertEq(staking.totalCooling(), 0);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(alice);
        assertEq(coolingWei + endsAt, 0);
    }

    function test_withdraw_beforeCooldownReverts() public {
        _stake(alice, 10e18);
        _unstake(alice, 10e18);
        skip(EPOCH - 1);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownActive.selector, T0 + EPOCH));
        vm.prank(alice);
        staking.withdraw();
    }

    function test_withdraw_atCooldownEndMinusOneReverts() public {
        vm.warp(T0 + 123);
        _stake(alice, 10e18);
        _unstake(alice, 10e18);
        vm.warp(T0 + 123 + EPOCH - 1);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownActive.selector, T0 + 123 + EPOCH));
        vm.prank(alice);
        staking.withdraw();
        skip(1);
        vm.prank(alice);
        assertEq(staking.withdraw(), 10e18);
    }

    function test_withdraw_nothingCoolingReverts() public {
        vm.expectRevert(IDiemStaking.DiemStakingNothingCooling.selector);
        vm.prank(alice);
        staking.withdraw();
    }

    // ------------------------------------------------------------ allowanceOf

    function test_allowanceOf_belowMinimumIsZero() public {
        _stake(alice, MIN_ALLOWANCE - 1);
        assertEq(staking.allowanceOf(alice, staking.currentEpoch()), 0);
        assertEq(staking.nextEpochAllowanceOf(alice), 0);
        _stake(alice, 1);
        assertEq(staking.allowanceOf(alice, staking.currentEpoch()), MIN_ALLOWANCE);
    }

    function test_allowanceOf_carriesForwardAcrossQuietEpochs() public {
        uint256 epoch = staking.currentEpoch();
        _stake(alice, 7e18);
        skip(5 * EPOCH);
        assertEq(staking.allowanceOf(alice, epoch - 1), 0);
        assertEq(staking.allowanceOf(alice, epoch + 3), 7e18);
        assertEq(staking.allowanceOf(alice, staking.currentEpoch()), 7e18);
    }

    function test_allowanceOf_pastEpochsStayFixed() public {
        uint256 epoch = staking.currentEpoch();
        _stake(alice, 10e18);
        skip(EPOCH);
        _unstake(alice, 10e18); // epoch + 1 opened at 10, so it keeps 10
        skip(EPOCH);
        _stake(alice, 3e18);
        skip(2 * EPOCH);
        _stake(alice, 1e18);
        assertEq(staking.allowanceOf(alice, epoch), 10e18);
        assertEq(staking.allowanceOf(alice, epoch + 1), 10e18);
        assertEq(staking.allowanceOf(alice, epoch + 2), 3e18);
        assertEq(staking.allowanceOf(alice, epoch + 3), 3e18);
        assertEq(staking.allowanceOf(alice, epoch + 4), 4e18);
    }

    /// @dev The attack the rule exists for: unstake, move and restake within one epoch yields nothing extra.
    function test_allowanceOf_unstakeTransferRestakeInOneEpochYieldsNoExtra() public {
        uint256 epoch = staking.currentEpoch();
        _stake(alice, 10e18);
        _unstake(alice, 10e18);
        // The cooldown outlasts the epoch: the DIEM cannot reach bob before the epoch is over.
        skip(EPOCH - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingCooldownActive.selector, T0 + EPOCH));
        staking.withdraw();
        skip(1);
        vm.prank(alice);
        staking.withdraw();
        vm.prank(alice);
        assertTrue(diem.transfer(bob, 10e18));
        _stake(bob, 10e18);
        assertEq(staking.allowanceOf(alice, epoch) + staking.allowanceOf(bob, epoch), 10e18);
        assertEq(staking.allowanceOf(alice, epoch + 1) + staking.allowanceOf(bob, epoch + 1), 10e18);
    }

    function test_allowanceOf_futureEpochIsZero() public {
        _stake(alice, 2e18);
        uint256 epoch = staking.currentEpoch();
        assertEq(staking.allowanceOf(alice, epoch + 1), 0);
        assertEq(staking.allowanceOf(alice, epoch + 10), 0);
        assertEq(staking.allowanceOf(alice, type(uint256).max), 0);
        assertEq(staking.nextEpochAllowanceOf(alice), 2e18);
    }

    /// @dev At the last second of an epoch the next one is still 0; at its first second the chain states it.
    function test_allowanceOf_futureEpochStatedOnceReached() public {
        _stake(alice, 2e18);
        uint256 epoch = staking.currentEpoch();
        skip(EPOCH - 1);
        assertEq(staking.allowanceOf(alice, epoch + 1), 0);
        skip(1);
        assertEq(staking.allowanceOf(alice, epoch + 1), 2e18);
        assertEq(staking.allowanceOf(alice, epoch + 2), 0);
    }

    function test_currentEpoch_followsTime() public {
        assertEq(staking.currentEpoch(), T0 / EPOCH);
        skip(EPOCH - 1);
        assertEq(staking.currentEpoch(), T0 / EPOCH);
        skip(1);
        assertEq(staking.currentEpoch(), T0 / EPOCH + 1);
    }
}
