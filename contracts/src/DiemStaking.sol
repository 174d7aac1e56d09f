// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDiemStaking} from "./interfaces/IDiemStaking.sol";
import {EpochAllowance} from "./libraries/EpochAllowance.sol";
import {EpochValue} from "./libraries/EpochValue.sol";

/// @title DiemStaking
/// @notice Stake DIEM for a daily inference allowance of $1 per DIEM.
/// @dev Invariants:
///   I1. diem.balanceOf(this) >= totalStaked + totalCooling, with equality unless DIEM was sent here directly.
///   I2. totalStaked = Σ stakedOf, totalCooling = Σ cooling.
///   I3. A withdrawal in epoch e pays exactly the DIEM its account had cooling at the start of e, never DIEM unstaked
///       in e: cooldownSeconds >= epochSeconds and every unstake restarts the timer for everything cooling. So every
///       DIEM that counted in e stays here until e has ended, and cooling DIEM counts for nothing.
///   I4. Hence, for every epoch e: Σ_a allowanceOf(a, e) <= (DIEM staked at the start of e) + (DIEM staked during e),
///       and no DIEM is counted twice: one DIEM backs at most $1 per epoch across all accounts.
///   I5. Every stake change goes through _checkpoint, which records the allowance history.
///   I6. No address can move a holder's DIEM: there is no owner.
///   I7. allowanceOf(a, e) is 0 for every epoch e > currentEpoch(): the chain states an allowance only for an epoch it
///       has reached, so a reader never takes a projection (which an unstake in the last block of the current epoch
///       would lower) for a grant. nextEpochAllowanceOf is the projection, and says so.
///   I8. Allocation (the rule): an allocation change takes effect at the next epoch boundary, so the allocations
///       effective in epoch e are fixed when e starts, and
///         allowanceOf(a, e) = floorAtMinimum(max(0, peak_a(e) - out_a(e)) + in_a(e)).
///       At every moment a delegator's total allocated from the next epoch (out.latest) is <= its stake: setAllocation
///       refuses more, and initiateUnstake refuses to leave less staked (lower the allocations first). So the stake
///       at the start of e is >= out_a(e), hence peak_a(e) >= out_a(e), and as Σ_a out_a(e) = Σ_a in_a(e) (every
///       allocation is counted once out and once in), Σ_a allowanceOf(a, e) <= Σ_a peak_a(e): I4 holds through any
///       sequence of allocate, reallocate, revoke, stake, unstake, transfer and restake in one epoch. Allocated
///       allowance cannot be passed on (out is bounded by the delegator's own stake), and the current epoch's
///       allowance still never falls (out and in are fixed in it, the peak only rises).
///   I9. Every allocation change goes through setAllocation, which moves the pair's amount, the delegator's out
///       history and the member's in history by the same difference, from the same epoch.
contract DiemStaking is IDiemStaking {
    using SafeERC20 for IERC20;
    using EpochAllowance for EpochAllowance.History;
    using EpochValue for EpochValue.History;

    struct Cooling {
        uint192 amountWei;
        uint64 endsAt;
    }

    /// @dev One delegator → member allocation: latestWei from fromEpoch on, previousWei before it. Changes are only
    /// ever scheduled for the next epoch, so these two values answer the current and the next epoch.
    struct Allocation {
        uint48 fromEpoch;
        uint104 previousWei;
        uint104 latestWei;
    }

    /// @inheritdoc IDiemStaking
    uint256 public constant maxMembers = 256;

    /// @inheritdoc IDiemStaking
    IERC20 public immutable diem;
    /// @inheritdoc IDiemStaking
    uint256 public immutable epochSeconds;
    /// @inheritdoc IDiemStaking
    uint256 public immutable cooldownSeconds;
    /// @inheritdoc IDiemStaking
    uint256 public immutable minAllowanceWei;

    /// @inheritdoc IDiemStaking
    uint256 public totalStaked;
    /// @inheritdoc IDiemStaking
    uint256 public totalCooling;

    mapping(address account => uint256 stakedWei) private _stakedWei;
    mapping(address account => Cooling) private _cooling;
    mapping(address account => EpochAllowance.History) private _history;
    mapping(address delegator => mapping(address member => Allocation)) private _allocations;
    mapping(address account => EpochValue.History) private _allocatedOut;
    mapping(address account => EpochValue.History) private _allocatedIn;
    mapping(address delegator => address[]) private _members;
    /// @dev 1-based position of a member in _members[delegator]; 0 when not listed.
    mapping(address delegator => mapping(address member => uint256 position)) private _memberPosition;

    /// @param diem_ The DIEM token.
    /// @param epochSeconds_ Epoch length (86400 in production); epochs are aligned to unix time 0.
    /// @param cooldownSeconds_ Unstake cooldown (86400 by default), at least epochSeconds_.
    /// @param minAllowanceWei_ Smallest peak stake that grants an allowance (0.1 DIEM by default).
    constructor(IERC20 diem_, uint256 epochSeconds_, uint256 cooldownSeconds_, uint256 minAllowanceWei_) {
        if (address(diem_) == address(0)) revert DiemStakingZeroAddress();
        if (epochSeconds_ == 0) revert DiemStakingZeroEpoch();
        if (cooldownSeconds_ < epochSeconds_) {
            revert DiemStakingCooldownShorterThanEpoch(cooldownSeconds_, epochSeconds_);
        }
        diem = diem_;
        epochSeconds = epochSeconds_;
        cooldownSeconds = cooldownSeconds_;
        minAllowanceWei = minAllowanceWei_;
    }

    /// @inheritdoc IDiemStaking
    function stake(uint256 amountWei) external {
        if (amountWei == 0) revert DiemStakingZeroAmount();
        uint256 stakedWei = _stakedWei[msg.sender] + amountWei;
        _checkpoint(msg.sender, stakedWei);
        totalStaked += amountWei;
        emit Staked(msg.sender, amountWei, stakedWei);
        diem.safeTransferFrom(msg.sender, address(this), amountWei);
    }

    /// @inheritdoc IDiemStaking
    function initiateUnstake(uint256 amountWei) external {
        if (amountWei == 0) revert DiemStakingZeroAmount();
        uint256 stakedWei = _stakedWei[msg.sender];
        if (amountWei > stakedWei) revert DiemStakingInsufficientStake(amountWei, stakedWei);
        // amountWei <= stakedWei, and totalStaked >= stakedWei by I2.
        unchecked {
            // I8: what stays staked must cover what is allocated from the next epoch.
            uint256 allocatedOutWei = _allocatedOut[msg.sender].latest();
            if (stakedWei - amountWei < allocatedOutWei) {
                revert DiemStakingStakeAllocated(stakedWei - amountWei, allocatedOutWei);
            }
            _checkpoint(msg.sender, stakedWei - amountWei);
            totalStaked -= amountWei;
        }
        totalCooling += amountWei;
        Cooling storage cooling = _cooling[msg.sender];
        // Restarting the timer for everything cooling keeps I3: no cooling DIEM leaves before a full cooldown.
        uint256 coolingWei = uint256(cooling.amountWei) + amountWei;
        uint256 endsAt = block.timestamp + cooldownSeconds;
        cooling.amountWei = SafeCast.toUint192(coolingWei);
        cooling.endsAt = SafeCast.toUint64(endsAt);
        emit UnstakeInitiated(msg.sender, amountWei, coolingWei, endsAt);
    }

    /// @inheritdoc IDiemStaking
    function setAllocation(address member, uint256 amountWei) external {
        if (member == address(0)) revert DiemStakingZeroMember();
        if (member == msg.sender) revert DiemStakingSelfAllocation();
        if (amountWei != 0 && amountWei < minAllowanceWei) {
            revert DiemStakingAllocationBelowMinimum(amountWei, minAllowanceWei);
        }
        Allocation memory allocation = _allocations[msg.sender][member];
        uint256 oldWei = allocation.latestWei;
        if (amountWei == oldWei) revert DiemStakingAllocationUnchanged(amountWei);
        EpochValue.History storage out = _allocatedOut[msg.sender];
        EpochValue.History storage in_ = _allocatedIn[member];
        // oldWei is part of both totals (I9), so neither subtraction underflows.
        uint256 outWei = out.latest() - oldWei + amountWei;
        uint256 stakedWei = _stakedWei[msg.sender];
        if (outWei > stakedWei) revert DiemStakingAllocationExceedsStake(outWei, stakedWei);
        uint256 inWei = in_.latest() - oldWei + amountWei;
        uint256 effectiveEpoch = currentEpoch() + 1;
        // fromEpoch is at most the next epoch; when it is earlier, latestWei is the amount in force now.
        if (allocation.fromEpoch != effectiveEpoch) {
            allocation.previousWei = allocation.latestWei;
            allocation.fromEpoch = SafeCast.toUint48(effectiveEpoch);
        }
        // amountWei <= outWei <= stakedWei, which fits 104 bits (EpochAllowance stores it so).
        allocation.latestWei = SafeCast.toUint104(amountWei);
        _allocations[msg.sender][member] = allocation;
        out.setFrom(effectiveEpoch, outWei);
        in_.setFrom(effectiveEpoch, inWei);
        _updateMembers(msg.sender, member, oldWei, amountWei);
        emit AllocationSet(msg.sender, member, effectiveEpoch, amountWei, outWei, inWei);
    }

    /// @inheritdoc IDiemStaking
    function withdraw() external returns (uint256 amountWei) {
        Cooling memory cooling = _cooling[msg.sender];
        if (cooling.amountWei == 0) revert DiemStakingNothingCooling();
        if (block.timestamp < cooling.endsAt) revert DiemStakingCooldownActive(cooling.endsAt);
        amountWei = cooling.amountWei;
        delete _cooling[msg.sender];
        // totalCooling >= this account's cooling by I2.
        unchecked {
            totalCooling -= amountWei;
        }
        emit Withdrawn(msg.sender, amountWei);
        diem.safeTransfer(msg.sender, amountWei);
    }

    /// @inheritdoc IDiemStaking
    function stakedOf(address account) external view returns (uint256) {
        return _stakedWei[account];
    }

    /// @inheritdoc IDiemStaking
    function coolingOf(address account) external view returns (uint256 amountWei, uint256 endsAt) {
        Cooling memory cooling = _cooling[account];
        return (cooling.amountWei, cooling.endsAt);
    }

    /// @inheritdoc IDiemStaking
    function currentEpoch() public view returns (uint256) {
        // Rounds down: an epoch starts at its first second, aligned to unix 0.
        return block.timestamp / epochSeconds;
    }

    /// @inheritdoc IDiemStaking
    function allowanceOf(address account, uint256 epoch) external view returns (uint256) {
        if (epoch > currentEpoch()) return 0;
        // By I8 the peak covers what is allocated out; saturating keeps a view from ever reverting.
        uint256 ownWei = Math.saturatingSub(_history[account].peakAt(epoch), _allocatedOut[account].at(epoch));
        return _floorAtMinimum(ownWei + _allocatedIn[account].at(epoch));
    }

    /// @inheritdoc IDiemStaking
    function nextEpochAllowanceOf(address account) external view returns (uint256) {
        uint256 ownWei = Math.saturatingSub(_stakedWei[account], _allocatedOut[account].latest());
        return _floorAtMinimum(ownWei + _allocatedIn[account].latest());
    }

    /// @inheritdoc IDiemStaking
    function allocationOf(address delegator, address member)
        external
        view
        returns (uint256 currentWei, uint256 nextWei)
    {
        Allocation memory allocation = _allocations[delegator][member];
        currentWei = allocation.fromEpoch <= currentEpoch() ? allocation.latestWei : allocation.previousWei;
        nextWei = allocation.latestWei;
    }

    /// @inheritdoc IDiemStaking
    function allocatedOutOf(address account, uint256 epoch) external view returns (uint256) {
        return _allocatedOut[account].at(epoch);
    }

    /// @inheritdoc IDiemStaking
    function allocatedInOf(address account, uint256 epoch) external view returns (uint256) {
        return _allocatedIn[account].at(epoch);
    }

    /// @inheritdoc IDiemStaking
    function membersOf(address delegator) external view returns (address[] memory) {
        return _members[delegator];
    }

    /// @dev Keeps _members[delegator] the set of members with a positive scheduled amount, at most maxMembers.
    function _updateMembers(address delegator, address member, uint256 oldWei, uint256 newWei) private {
        address[] storage members = _members[delegator];
        if (oldWei == 0) {
            if (members.length == maxMembers) revert DiemStakingTooManyMembers(maxMembers);
            members.push(member);
            _memberPosition[delegator][member] = members.length;
        } else if (newWei == 0) {
            // Swap with the last entry and pop.
            uint256 position = _memberPosition[delegator][member];
            address last = members[members.length - 1];
            members[position - 1] = last;
            _memberPosition[delegator][last] = position;
            members.pop();
            delete _memberPosition[delegator][member];
        }
    }

    /// @dev The single place where a stake changes: stores it and records the allowance history.
    function _checkpoint(address account, uint256 newStakedWei) private {
        uint256 epoch = currentEpoch();
        _stakedWei[account] = newStakedWei;
        EpochAllowance.History storage history = _history[account];
        history.record(epoch, newStakedWei);
        emit StakeCheckpointed(account, epoch, newStakedWei, history.peakAt(epoch));
    }

    function _floorAtMinimum(uint256 amountWei) private view returns (uint256) {
        return amountWei < minAllowanceWei ? 0 : amountWei;
    }
}
