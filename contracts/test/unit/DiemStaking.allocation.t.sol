// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";
import {IDiemStaking} from "../../src/interfaces/IDiemStaking.sol";
import {ContractWallet} from "../utils/ContractWallet.sol";

/// @dev setAllocation and the allocation views: the rule (changes take effect at the next epoch boundary), the
/// stake cover (I8), the member list and every revert.
contract DiemStakingAllocationTest is Test {
    uint256 internal constant EPOCH = 86_400;
    uint256 internal constant MIN_ALLOWANCE = 0.1e18;
    /// @dev 2026-01-01T00:00:00Z, an epoch boundary.
    uint256 internal constant T0 = 1_767_225_600;

    Diem internal diem;
    DiemStaking internal staking;
    address internal treasury = makeAddr("treasury");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal e0;

    function setUp() public {
        vm.warp(T0);
        diem = new Diem(address(this));
        diem.setMinter(address(this));
        staking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, MIN_ALLOWANCE);
        _fund(treasury, 1_000e18);
        _fund(alice, 1_000e18);
        _fund(bob, 1_000e18);
        e0 = staking.currentEpoch();
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

    function _allocate(address delegator, address member, uint256 amountWei) internal {
        vm.prank(delegator);
        staking.setAllocation(member, amountWei);
    }

    function _allowance(address account) internal view returns (uint256) {
        return staking.allowanceOf(account, staking.currentEpoch());
    }

    function _assertAllocation(address delegator, address member, uint256 currentWei, uint256 nextWei) internal view {
        (uint256 c, uint256 n) = staking.allocationOf(delegator, member);
        assertEq(c, currentWei, "current allocation");
        assertEq(n, nextWei, "next allocation");
    }

    // ------------------------------------------------------------ the rule

    function test_setAllocation_takesEffectAtTheNextEpoch() public {
        _stake(treasury, 10e18);
        vm.expectEmit(address(staking));
        emit IDiemStaking.AllocationSet(treasury, alice, e0 + 1, 4e18, 4e18, 4e18);
        _allocate(treasury, alice, 4e18);
        _assertAllocation(treasury, alice, 0, 4e18);
        assertEq(_allowance(treasury), 10e18);
        assertEq(_allowance(alice), 0);
        assertEq(staking.allowanceOf(alice, e0 + 1), 0, "not reached yet");
        assertEq(staking.nextEpochAllowanceOf(treasury), 6e18);
        assertEq(staking.nextEpochAllowanceOf(alice), 4e18);
        assertEq(staking.allocatedOutOf(treasury, e0), 0);
        assertEq(staking.allocatedOutOf(treasury, e0 + 1), 4e18);
        assertEq(staking.allocatedInOf(alice, e0 + 1), 4e18);
        skip(EPOCH);
        _assertAllocation(treasury, alice, 4e18, 4e18);
        assertEq(_allowance(treasury), 6e18);
        assertEq(_allowance(alice), 4e18);
        assertEq(staking.allowanceOf(treasury, e0), 10e18, "the past epoch keeps its figure");
        assertEq(staking.allowanceOf(alice, e0), 0);
        skip(3 * EPOCH);
        assertEq(_allowance(treasury), 6e18, "carries forward");
        assertEq(_allowance(alice), 4e18);
    }

    function test_setAllocation_changeMidEpochLeavesTheCurrentEpoch() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 4e18);
        skip(EPOCH);
        _allocate(treasury, alice, 7e18);
        _allocate(treasury, alice, 2e18); // the last change of the epoch wins
        _assertAllocation(treasury, alice, 4e18, 2e18);
        assertEq(_allowance(alice), 4e18);
        assertEq(_allowance(treasury), 6e18);
        assertEq(staking.nextEpochAllowanceOf(alice), 2e18);
        skip(EPOCH);
        _assertAllocation(treasury, alice, 2e18, 2e18);
        assertEq(_allowance(alice), 2e18);
        assertEq(_allowance(treasury), 8e18);
        assertEq(staking.allowanceOf(alice, e0 + 1), 4e18);
        assertEq(staking.allowanceOf(treasury, e0 + 1), 6e18);
    }

    function test_setAllocation_revokeKeepsTheCurrentEpoch() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 4e18);
        _allocate(treasury, bob, 3e18);
        skip(EPOCH);
        vm.expectEmit(address(staking));
        emit IDiemStaking.AllocationSet(treasury, alice, e0 + 2, 0, 3e18, 0);
        _allocate(treasury, alice, 0);
        _assertAllocation(treasury, alice, 4e18, 0);
        assertEq(_allowance(alice), 4e18);
        address[] memory members = staking.membersOf(treasury);
        assertEq(members.length, 1);
        assertEq(members[0], bob);
        skip(EPOCH);
        _assertAllocation(treasury, alice, 0, 0);
        assertEq(_allowance(alice), 0);
        assertEq(_allowance(bob), 3e18);
        assertEq(_allowance(treasury), 7e18);
    }

    /// @dev Two changes in consecutive epochs: the pair keeps the amount in force and the one scheduled.
    function test_allocationOf_tracksCurrentAndNextAcrossEpochs() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 4e18);
        skip(EPOCH);
        _allocate(treasury, alice, 6e18);
        _assertAllocation(treasury, alice, 4e18, 6e18);
        skip(EPOCH);
        _assertAllocation(treasury, alice, 6e18, 6e18);
        assertEq(staking.allowanceOf(alice, e0 + 1), 4e18);
        assertEq(staking.allowanceOf(alice, e0 + 2), 6e18);
    }

    function test_allocation_fromTwoDelegatorsAddsUp() public {
        _stake(treasury, 10e18);
        _stake(bob, 5e18);
        _allocate(treasury, alice, 4e18);
        vm.expectEmit(address(staking));
        emit IDiemStaking.AllocationSet(bob, alice, e0 + 1, 5e18, 5e18, 9e18);
        _allocate(bob, alice, 5e18);
        skip(EPOCH);
        assertEq(_allowance(alice), 9e18);
        assertEq(_allowance(bob), 0);
        assertEq(staking.allocatedInOf(alice, staking.currentEpoch()), 9e18);
    }

    /// @dev A member's own stake and its allocation add; a member can also allocate its own stake onward.
    function test_allocation_memberWithOwnStake() public {
        _stake(treasury, 10e18);
        _stake(alice, 2e18);
        _allocate(treasury, alice, 4e18);
        _allocate(alice, bob, 1e18);
        skip(EPOCH);
        assertEq(_allowance(alice), 5e18);
        assertEq(_allowance(bob), 1e18);
        assertEq(_allowance(treasury) + _allowance(alice) + _allowance(bob), 12e18);
    }

    function test_allocation_pastEpochsStayExact() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 4e18);
        skip(2 * EPOCH);
        _allocate(treasury, alice, 8e18);
        skip(EPOCH);
        _allocate(treasury, alice, 0);
        skip(2 * EPOCH);
        _stake(treasury, 1e18);
        uint256[6] memory aliceWei = [uint256(0), 4e18, 4e18, 8e18, 0, 0];
        for (uint256 i; i < 6; ++i) {
            assertEq(staking.allowanceOf(alice, e0 + i), aliceWei[i]);
            assertEq(staking.allocatedOutOf(treasury, e0 + i), aliceWei[i]);
            assertEq(staking.allowanceOf(treasury, e0 + i), (i == 5 ? 11e18 : 10e18) - aliceWei[i]);
        }
    }

    // ------------------------------------------------------------ the allowance floor

    function test_allowanceOf_floorAppliesToTheTotal() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, MIN_ALLOWANCE);
        _allocate(treasury, bob, 10e18 - MIN_ALLOWANCE - 1);
        skip(EPOCH);
        assertEq(_allowance(alice), MIN_ALLOWANCE, "an allocation of exactly the minimum counts");
        assertEq(_allowance(treasury), 0, "a remainder of 1 wei is below the minimum");
        assertEq(staking.nextEpochAllowanceOf(treasury), 0);
        _stake(alice, 1);
        skip(EPOCH);
        assertEq(_allowance(alice), MIN_ALLOWANCE + 1);
    }

    function test_setAllocation_belowMinimumReverts() public {
        _stake(treasury, 10e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiemStaking.DiemStakingAllocationBelowMinimum.selector, MIN_ALLOWANCE - 1, MIN_ALLOWANCE
            )
        );
        _allocate(treasury, alice, MIN_ALLOWANCE - 1);
    }

    // ------------------------------------------------------------ the stake cover (I8)

    function test_setAllocation_aboveStakeReverts() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 6e18);
        vm.expectRevert(
            abi.encodeWithSelector(IDiemStaking.DiemStakingAllocationExceedsStake.selector, 11e18, 10e18)
        );
        _allocate(treasury, bob, 5e18);
        _allocate(treasury, bob, 4e18);
        assertEq(staking.nextEpochAllowanceOf(treasury), 0);
    }

    /// @dev Allocated allowance cannot be passed on: out is bounded by the delegator's own stake.
    function test_setAllocation_receivedAllowanceCannotBePassedOn() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 4e18);
        skip(EPOCH);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingAllocationExceedsStake.selector, 1e18, 0));
        _allocate(alice, bob, 1e18);
    }

    function test_initiateUnstake_belowAllocatedReverts() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 6e18);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingStakeAllocated.selector, 5e18, 6e18));
        _unstake(treasury, 5e18);
        _unstake(treasury, 4e18);
        assertEq(staking.stakedOf(treasury), 6e18);
        assertEq(staking.nextEpochAllowanceOf(treasury), 0);
    }

    /// @dev Lowering first, then unstaking at once: the current epoch keeps its figures, the next reflects both.
    function test_initiateUnstake_afterRevokeInTheSameEpoch() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 10e18);
        skip(EPOCH);
        assertEq(_allowance(alice), 10e18);
        assertEq(_allowance(treasury), 0);
        _allocate(treasury, alice, 0);
        _unstake(treasury, 10e18);
        assertEq(_allowance(alice), 10e18, "the current epoch is fixed");
        assertEq(_allowance(treasury), 0);
        skip(EPOCH);
        assertEq(_allowance(alice) + _allowance(treasury), 0);
    }

    /// @dev The attack the rule exists for: allocate, revoke, unstake, move and restake elsewhere in one epoch
    /// grants nothing extra in any epoch.
    function test_allocation_noDoubleCountThroughRevokeUnstakeRestake() public {
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 10e18);
        skip(EPOCH);
        uint256 epoch = staking.currentEpoch();
        _allocate(treasury, alice, 0);
        _unstake(treasury, 10e18);
        skip(EPOCH);
        vm.prank(treasury);
        staking.withdraw();
        vm.prank(treasury);
        assertTrue(diem.transfer(bob, 10e18));
        _stake(bob, 10e18);
        _allocate(bob, alice, 10e18);
        for (uint256 e = epoch; e <= epoch + 1; ++e) {
            uint256 sumWei = staking.allowanceOf(treasury, e) + staking.allowanceOf(alice, e)
                + staking.allowanceOf(bob, e);
            assertEq(sumWei, 10e18);
        }
        skip(EPOCH);
        assertEq(_allowance(alice), 10e18);
        assertEq(_allowance(bob), 0);
        assertEq(_allowance(treasury), 0);
    }

    // ------------------------------------------------------------ members

    function test_membersOf_listsScheduledMembers() public {
        address carol = makeAddr("carol");
        _stake(treasury, 10e18);
        _allocate(treasury, alice, 1e18);
        _allocate(treasury, bob, 1e18);
        _allocate(treasury, carol, 1e18);
        _allocate(treasury, alice, 2e18); // a change keeps the entry
        assertEq(staking.membersOf(treasury).length, 3);
        _allocate(treasury, alice, 0); // the last entry moves into its place
        address[] memory members = staking.membersOf(treasury);
        assertEq(members.length, 2);
        assertEq(members[0], carol);
        assertEq(members[1], bob);
        _allocate(treasury, bob, 0);
        _allocate(treasury, carol, 0);
        assertEq(staking.membersOf(treasury).length, 0);
        _allocate(treasury, alice, 1e18);
        assertEq(staking.membersOf(treasury)[0], alice);
    }

    function test_setAllocation_tooManyMembersReverts() public {
        uint256 max = staking.maxMembers();
        assertEq(max, 256);
        _stake(treasury, 1_000e18);
        for (uint256 i; i < max; ++i) {
            _allocate(treasury, address(uint160(0x1000 + i)), MIN_ALLOWANCE);
        }
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingTooManyMembers.selector, max));
        _allocate(treasury, alice, MIN_ALLOWANCE);
        _allocate(treasury, address(uint160(0x1000)), 0);
        _allocate(treasury, alice, MIN_ALLOWANCE);
        assertEq(staking.membersOf(treasury).length, max);
    }

    // ------------------------------------------------------------ reverts and callers

    function test_setAllocation_zeroMemberReverts() public {
        _stake(treasury, 10e18);
        vm.expectRevert(IDiemStaking.DiemStakingZeroMember.selector);
        _allocate(treasury, address(0), 1e18);
    }

    function test_setAllocation_selfReverts() public {
        _stake(treasury, 10e18);
        vm.expectRevert(IDiemStaking.DiemStakingSelfAllocation.selector);
        _allocate(treasury, treasury, 1e18);
    }

    function test_setAllocation_unchangedReverts() public {
        _stake(treasury, 10e18);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingAllocationUnchanged.selector, 0));
        _allocate(treasury, alice, 0);
        _allocate(treasury, alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IDiemStaking.DiemStakingAllocationUnchanged.selector, 1e18));
        _allocate(treasury, alice, 1e18);
    }

    /// @dev A contract wallet (multisig-like) treasury allocates through its own calls: everything is msg.sender.
    function test_setAllocation_fromAContractWallet() public {
        ContractWallet wallet = new ContractWallet(treasury);
        diem.mint(address(wallet), 10e18);
        vm.startPrank(treasury);
        wallet.execute(address(diem), abi.encodeCall(IERC20.approve, (address(staking), 10e18)));
        wallet.execute(address(staking), abi.encodeCall(IDiemStaking.stake, (10e18)));
        wallet.execute(address(staking), abi.encodeCall(IDiemStaking.setAllocation, (alice, 3e18)));
        vm.stopPrank();
        skip(EPOCH);
        assertEq(_allowance(address(wallet)), 7e18);
        assertEq(_allowance(alice), 3e18);
        assertEq(_allowance(treasury), 0);
    }
}
