// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IDiemStaking
/// @notice Staked DIEM grants $1 of inference per DIEM per epoch (a UTC day by default).
/// @dev The allowance rule: allowanceOf(a, e) is the highest stake `a` held at any moment of epoch e (its stake at the
/// epoch's start, raised by any increase during it), or 0 when that is below minAllowanceWei. Unstaking goes through a
/// cooldown of at least one epoch in which the tokens count for nothing, so a DIEM that counted for one account in an
/// epoch cannot reach another account's stake before that epoch has ended: one DIEM backs at most $1 per epoch across
/// all accounts. The chain states an allowance only for an epoch it has reached: allowanceOf is 0 for a later epoch.
///
/// Allocation: a staker (the delegator, typically a team treasury, any address including a contract wallet) can hand
/// part of its allowance to other wallets (members) with setAllocation. A change takes effect at the next epoch
/// boundary: the allocations effective in epoch e are fixed when e starts. Then
///   allowanceOf(a, e) = floor(max(0, peak_a(e) - out_a(e)) + in_a(e)),
/// where out_a(e) is what `a` allocated to others for e, in_a(e) what others allocated to `a` for e, and floor() makes
/// a total below minAllowanceWei 0. A delegator's total allocated from the next epoch never exceeds its current stake
/// (setAllocation and initiateUnstake enforce it), so its stake at the start of e is at least out_a(e), and allocation
/// only moves allowance between accounts: Σ_a allowanceOf(a, e) <= Σ_a peak_a(e). Received allocations cannot be
/// passed on: out is bounded by the delegator's own stake.
interface IDiemStaking {
    /// @notice `account` staked `amountWei` DIEM; its stake is now `stakedWei`.
    event Staked(address indexed account, uint256 amountWei, uint256 stakedWei);
    /// @notice `account` moved `amountWei` DIEM into cooldown; `coolingWei` now cools until `coolingEndsAt`.
    event UnstakeInitiated(address indexed account, uint256 amountWei, uint256 coolingWei, uint256 coolingEndsAt);
    /// @notice `account` withdrew `amountWei` DIEM after its cooldown.
    event Withdrawn(address indexed account, uint256 amountWei);
    /// @notice The stake of `account` changed in `epoch`: it is now `stakedWei`, and the epoch's peak is `peakWei`.
    event StakeCheckpointed(address indexed account, uint256 indexed epoch, uint256 stakedWei, uint256 peakWei);
    /// @notice From `effectiveEpoch` on, `delegator` allocates `amountWei` of its allowance to `member` (0: revoked).
    /// `delegatorOutWei` is then the delegator's total allocated out, `memberInWei` the member's total allocated in.
    event AllocationSet(
        address indexed delegator,
        address indexed member,
        uint256 indexed effectiveEpoch,
        uint256 amountWei,
        uint256 delegatorOutWei,
        uint256 memberInWei
    );

    /// @notice A zero amount where a positive one is required.
    error DiemStakingZeroAmount();
    /// @notice A zero address where the DIEM token is required.
    error DiemStakingZeroAddress();
    /// @notice epochSeconds is zero.
    error DiemStakingZeroEpoch();
    /// @notice The cooldown `cooldownSeconds` is shorter than one epoch `epochSeconds`.
    error DiemStakingCooldownShorterThanEpoch(uint256 cooldownSeconds, uint256 epochSeconds);
    /// @notice `requestedWei` exceeds the caller's stake `stakedWei`.
    error DiemStakingInsufficientStake(uint256 requestedWei, uint256 stakedWei);
    /// @notice withdraw() with nothing in cooldown.
    error DiemStakingNothingCooling();
    /// @notice withdraw() before the cooldown ends at `endsAt`.
    error DiemStakingCooldownActive(uint256 endsAt);
    /// @notice setAllocation to the zero address.
    error DiemStakingZeroMember();
    /// @notice setAllocation to the caller itself.
    error DiemStakingSelfAllocation();
    /// @notice setAllocation of a positive `amountWei` below `minAllowanceWei` (it would grant nothing).
    error DiemStakingAllocationBelowMinimum(uint256 amountWei, uint256 minAllowanceWei);
    /// @notice setAllocation to the amount already scheduled, `amountWei`.
    error DiemStakingAllocationUnchanged(uint256 amountWei);
    /// @notice setAllocation would bring the caller's total allocated out to `allocatedOutWei`, above its stake.
    error DiemStakingAllocationExceedsStake(uint256 allocatedOutWei, uint256 stakedWei);
    /// @notice initiateUnstake would leave `remainingWei` staked, below the `allocatedOutWei` the caller has allocated
    /// from the next epoch: lower the allocations first (they take effect at the next epoch).
    error DiemStakingStakeAllocated(uint256 remainingWei, uint256 allocatedOutWei);
    /// @notice setAllocation to a new member when the caller already allocates to `maxMembers` members.
    error DiemStakingTooManyMembers(uint256 maxMembers);

    /// @notice Stakes `amountWei` DIEM from the caller (needs an allowance). Counts at once for the current epoch.
    function stake(uint256 amountWei) external;

    /// @notice Moves `amountWei` of the caller's stake into cooldown and restarts the cooldown for everything already
    /// cooling. Cooling DIEM counts for nothing; the current epoch's allowance keeps its peak.
    function initiateUnstake(uint256 amountWei) external;

    /// @notice Allocates `amountWei` of the caller's allowance to `member` from the next epoch on, replacing what was
    /// allocated to it before (0 revokes). The current epoch is unaffected. The caller's total allocated from the next
    /// epoch must not exceed its stake; a positive amount must be at least minAllowanceWei.
    function setAllocation(address member, uint256 amountWei) external;

    /// @notice Pays out all cooling DIEM once the cooldown has ended.
    /// @return amountWei The DIEM paid.
    function withdraw() external returns (uint256 amountWei);

    /// @notice The DIEM token.
    function diem() external view returns (IERC20);

    /// @notice The current stake of `account` (excludes cooling).
    function stakedOf(address account) external view returns (uint256);

    /// @notice DIEM of `account` in cooldown, and when the cooldown ends.
    function coolingOf(address account) external view returns (uint256 amountWei, uint256 endsAt);

    /// @notice Σ stakedOf.
    function totalStaked() external view returns (uint256);

    /// @notice Σ cooling.
    function totalCooling() external view returns (uint256);

    /// @notice Length of an epoch; epochs are aligned to unix time 0.
    function epochSeconds() external view returns (uint256);

    /// @notice The unstake cooldown, at least epochSeconds.
    function cooldownSeconds() external view returns (uint256);

    /// @notice A peak stake below this grants no allowance.
    function minAllowanceWei() external view returns (uint256);

    /// @notice block.timestamp / epochSeconds.
    function currentEpoch() external view returns (uint256);

    /// @notice The allowance of `account` in `epoch`, in DIEM wei ($1 per 1e18): its peak stake in that epoch minus
    /// what it allocated out for that epoch, plus what was allocated to it, or 0 below minAllowanceWei. In the current
    /// epoch it can still rise (a stake counts at once) but never falls; for a past epoch it is fixed. For an epoch
    /// after the current one it is 0: the chain has not reached it, so it grants nothing yet (nextEpochAllowanceOf is
    /// the projection).
    function allowanceOf(address account, uint256 epoch) external view returns (uint256);

    /// @notice The allowance `account` will have in the next epoch if nothing changes: its current stake minus what it
    /// allocated out from the next epoch, plus what is allocated to it from then, or 0 below minAllowanceWei. A
    /// projection, not a grant: an unstake or an allocation change before the epoch ends moves it.
    function nextEpochAllowanceOf(address account) external view returns (uint256);

    /// @notice The most members one delegator can allocate to at once.
    function maxMembers() external view returns (uint256);

    /// @notice What `delegator` allocates to `member` in the current epoch, and from the next epoch on.
    function allocationOf(address delegator, address member)
        external
        view
        returns (uint256 currentWei, uint256 nextWei);

    /// @notice What `account` allocated out in total for `epoch` (for a later epoch than the current: what is
    /// scheduled now).
    function allocatedOutOf(address account, uint256 epoch) external view returns (uint256);

    /// @notice What was allocated to `account` in total for `epoch` (for a later epoch than the current: what is
    /// scheduled now).
    function allocatedInOf(address account, uint256 epoch) external view returns (uint256);

    /// @notice The members `delegator` allocates to from the next epoch on (a positive scheduled amount), in no
    /// particular order; at most maxMembers. A member revoked in this epoch still holds its current-epoch amount
    /// (allocationOf) but is no longer listed.
    function membersOf(address delegator) external view returns (address[] memory);
}
