// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDiemStaking} from "./interfaces/IDiemStaking.sol";
import {EpochAllowance} from "./libraries/EpochAllowance.sol";

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
contract DiemStaking is IDiemStaking {
    using SafeERC20 for IERC20;
    using EpochAllowance for EpochAllowance.History;

    struct Cooling {
        uint192 amountWei;
        uint64 endsAt;
    }

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
        return _floorAtMinimum(_history[account].peakAt(epoch));
    }

    /// @inheritdoc IDiemStaking
    function nextEpochAllowanceOf(address account) external view returns (uint256) {
        return _floorAtMinimum(_stakedWei[account]);
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
