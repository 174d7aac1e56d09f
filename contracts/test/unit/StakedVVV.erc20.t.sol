// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StakedVVVTestBase} from "./StakedVVVBase.t.sol";
import {IStakedVVV} from "../../src/interfaces/IStakedVVV.sol";

/// @dev sVVV as an ERC20: only unlocked sVVV moves, and rewards follow the holder.
contract StakedVVVERC20Test is StakedVVVTestBase {
    address internal carol = makeAddr("carol");
    uint256 internal constant DAY_WEI = ANNUAL_EMISSION_WEI * 1 days / YEAR;

    function _transfer(address from, address to, uint256 amountWei) internal {
        vm.prank(from);
        assertTrue(svvv.transfer(to, amountWei));
    }

    // ------------------------------------------------------------ transfer

    function test_transfer_movesUnlockedSvvv() public {
        _stake(alice, 100e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.StakeCheckpointed(alice, 60e18, 0, 60e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.StakeCheckpointed(carol, 40e18, 0, 40e18);
        vm.expectEmit(address(svvv));
        emit IERC20.Transfer(alice, carol, 40e18);
        _transfer(alice, carol, 40e18);
        assertEq(svvv.balanceOf(alice), 60e18);
        assertEq(svvv.balanceOf(carol), 40e18);
        assertEq(svvv.weightOf(carol), 40e18);
        assertEq(svvv.totalSupply(), 100e18);
        assertEq(svvv.totalWeight(), 100e18);
        assertEq(vvv.balanceOf(address(svvv)), 100e18);
    }

    function test_transfer_lockedSvvvCannotMove() public {
        _stake(alice, 1_000e18);
        uint256 lockedWei = _mint(alice, 5e18);
        uint256 unlockedWei = 1_000e18 - lockedWei;
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, unlockedWei + 1, unlockedWei)
        );
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(bob, unlockedWei + 1);

        _transfer(alice, bob, unlockedWei);
        assertEq(svvv.balanceOf(alice), lockedWei);
        assertEq(svvv.lockedOf(alice), lockedWei);
        assertEq(svvv.mintedOf(alice), 5e18);
        assertEq(svvv.lockedOf(bob), 0);
        assertEq(svvv.mintedOf(bob), 0);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, 1, 0));
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(bob, 1);
        // The minter still unlocks its own sVVV by burning.
        assertEq(_burn(alice, 5e18), lockedWei);
        assertEq(svvv.unlockedOf(alice), lockedWei);
    }

    function test_transfer_coolingSvvvCannotMove() public {
        _stake(alice, 100e18);
        _unstake(alice, 60e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, 41e18, 40e18));
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(bob, 41e18);
        _transfer(alice, bob, 40e18);
        (uint256 coolingWei,) = svvv.coolingOf(alice);
        assertEq(coolingWei, 60e18);
        (uint256 bobCoolingWei,) = svvv.coolingOf(bob);
        assertEq(bobCoolingWei, 0);
        assertEq(svvv.totalCooling(), 60e18);
    }

    /// @dev The sender keeps what it earned before the transfer; the receiver earns from the transfer on.
    function test_transfer_rewardsFollowTheHolder() public {
        _stake(alice, 100e18);
        skip(1 days);
        _transfer(alice, carol, 100e18);
        uint256 aliceWei = svvv.earned(alice);
        assertApproxEqAbs(aliceWei, DAY_WEI, 1e6);
        assertEq(svvv.earned(carol), 0);
        skip(1 days);
        assertEq(svvv.earned(alice), aliceWei);
        assertApproxEqAbs(svvv.earned(carol), DAY_WEI, 1e6);
        assertEq(_claim(alice), aliceWei);
    }

    function test_transfer_partialSplitsRewardsByNewWeights() public {
        _stake(alice, 100e18);
        _stake(bob, 100e18);
        skip(1 days);
        _transfer(alice, bob, 50e18);
        skip(1 days);
        // Day 1: half each; day 2: alice 50 of 200, bob 150 of 200.
        assertApproxEqAbs(svvv.earned(alice), DAY_WEI / 2 + DAY_WEI / 4, 1e6);
        assertApproxEqAbs(svvv.earned(bob), DAY_WEI / 2 + DAY_WEI * 3 / 4, 1e6);
    }

    /// @dev The receiver's pending rewards at its old weight are settled before its weight grows.
    function test_transfer_settlesReceiverAtOldWeight() public {
        _stake(alice, 100e18);
        _stake(bob, 100e18);
        skip(1 days);
        _transfer(alice, bob, 100e18);
        assertApproxEqAbs(svvv.earned(bob), DAY_WEI / 2, 1e6);
        assertApproxEqAbs(svvv.earned(alice), DAY_WEI / 2, 1e6);
    }

    function test_transfer_toSelfKeepsBalanceAndRewards() public {
        _stake(alice, 100e18);
        skip(1 days);
        _transfer(alice, alice, 100e18);
        assertEq(svvv.balanceOf(alice), 100e18);
        assertEq(svvv.totalSupply(), 100e18);
        skip(1 days);
        assertApproxEqAbs(svvv.earned(alice), 2 * DAY_WEI, 1e6);
    }

    function test_transfer_zeroAmountEmits() public {
        vm.expectEmit(address(svvv));
        emit IERC20.Transfer(alice, bob, 0);
        _transfer(alice, bob, 0);
    }

    function test_transfer_toZeroAddressReverts() public {
        _stake(alice, 100e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidReceiver.selector, address(0)));
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(address(0), 1e18);
    }

    function test_transfer_toTheContractReverts() public {
        _stake(alice, 100e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidReceiver.selector, address(svvv)));
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(address(svvv), 1e18);
    }

    /// @dev What was received is the receiver's own: it unstakes, withdraws, and can lock it to mint.
    function test_transfer_receiverOwnsTheStake() public {
        _stake(alice, 1_000e18);
        _transfer(alice, carol, 1_000e18);
        _mint(carol, 1e18);
        _unstake(carol, svvv.unlockedOf(carol));
        skip(SVVV_COOLDOWN);
        vm.prank(carol);
        uint256 withdrawnWei = svvv.withdraw();
        assertEq(vvv.balanceOf(carol), withdrawnWei);
        assertEq(svvv.balanceOf(carol), svvv.lockedOf(carol));
    }

    // ------------------------------------------------------------ approve / transferFrom

    function test_approve_setsAllowance() public {
        vm.expectEmit(address(svvv));
        emit IERC20.Approval(alice, bob, 5e18);
        vm.prank(alice);
        assertTrue(svvv.approve(bob, 5e18));
        assertEq(svvv.allowance(alice, bob), 5e18);
    }

    function test_approve_zeroSpenderReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidApproval.selector, alice, address(0)));
        vm.prank(alice);
        svvv.approve(address(0), 1);
    }

    function test_transferFrom_spendsAllowance() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        svvv.approve(bob, 30e18);
        vm.prank(bob);
        assertTrue(svvv.transferFrom(alice, carol, 20e18));
        assertEq(svvv.allowance(alice, bob), 10e18);
        assertEq(svvv.balanceOf(carol), 20e18);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientAllowance.selector, bob, 10e18, 10e18 + 1)
        );
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transferFrom(alice, carol, 10e18 + 1);
    }

    function test_transferFrom_infiniteAllowanceIsNotSpent() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        svvv.approve(bob, type(uint256).max);
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transferFrom(alice, carol, 100e18);
        assertEq(svvv.allowance(alice, bob), type(uint256).max);
    }

    function test_transferFrom_lockedSvvvCannotMove() public {
        _stake(alice, 1_000e18);
        uint256 lockedWei = _mint(alice, 5e18);
        vm.prank(alice);
        svvv.approve(bob, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, 1_000e18, 1_000e18 - lockedWei)
        );
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transferFrom(alice, bob, 1_000e18);
    }

    function test_transferFrom_withoutAllowanceReverts() public {
        _stake(alice, 100e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientAllowance.selector, bob, 0, 1));
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transferFrom(alice, bob, 1);
    }

    function test_transferFrom_zeroAddressSenderReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidSender.selector, address(0)));
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transferFrom(address(0), bob, 0);
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Random stakes, a random transfer at a random time: balances and weights stay summed, and the two holders
    /// together earn the schedule (but rounding), split at the transfer.
    function testFuzz_transfer_conservesBalancesAndRewards(
        uint256 aliceWei,
        uint256 bobWei,
        uint256 amountWei,
        uint256 beforeSeconds,
        uint256 afterSeconds
    ) public {
        aliceWei = bound(aliceWei, 1, 1_000_000e18);
        bobWei = bound(bobWei, 1, 1_000_000e18);
        amountWei = bound(amountWei, 0, aliceWei);
        beforeSeconds = bound(beforeSeconds, 0, 30 days);
        afterSeconds = bound(afterSeconds, 0, 30 days);
        _stake(alice, aliceWei);
        _stake(bob, bobWei);
        skip(beforeSeconds);
        uint256 aliceBeforeWei = svvv.earned(alice);
        _transfer(alice, bob, amountWei);
        assertEq(svvv.earned(alice), aliceBeforeWei);
        assertEq(svvv.balanceOf(alice) + svvv.balanceOf(bob), aliceWei + bobWei);
        assertEq(svvv.weightOf(alice) + svvv.weightOf(bob), svvv.totalWeight());
        skip(afterSeconds);
        uint256 totalWei = svvv.earned(alice) + svvv.earned(bob);
        uint256 scheduleWei = ANNUAL_EMISSION_WEI * (beforeSeconds + afterSeconds) / YEAR;
        assertLe(totalWei, scheduleWei);
        assertApproxEqAbs(totalWei, scheduleWei, 1e7);
    }
}
