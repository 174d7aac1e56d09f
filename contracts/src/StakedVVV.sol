// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakedVVV} from "./interfaces/IStakedVVV.sol";
import {IVVV} from "./interfaces/IVVV.sol";
import {IDiem} from "./interfaces/IDiem.sol";
import {MintCurve} from "./libraries/MintCurve.sol";

/// @title StakedVVV
/// @notice sVVV: stake VVV, earn emissions, lock sVVV to mint DIEM.
/// @dev sVVV is not an ERC20: there is no transfer, transferFrom or approve at all.
/// Invariants:
///   I1. vvv.balanceOf(this) >= totalStaked + totalCooling (equality unless VVV was sent here directly).
///   I2. For every account lockedOf <= stakedOf; totalStaked, totalLocked, totalCooling, totalWeight are the sums of
///       the per-account values.
///   I3. lockedOf(a) > 0 iff mintedOf(a) > 0, and burning all of mintedOf(a) releases exactly lockedOf(a); so
///       totalLocked equals what burning the DIEM of every minter would release.
///   I4. Σ mintedOf = diem.totalSupply() (this contract is the only DIEM minter and burns only through burnDiem).
///   I5. VVV minted as emissions + Σ earned <= annualEmissionWei * elapsed / 365 days (every division rounds down);
///       time during which totalWeight is 0 is forfeited, never minted.
///   I6. Every stake change goes through _checkpoint, which accrues rewards before any weight changes.
///   I7. The owner's only power is setAnnualEmission; no path lets it move a holder's tokens.
contract StakedVVV is IStakedVVV, Ownable {
    using SafeERC20 for IVVV;

    struct Account {
        uint256 stakedWei;
        uint256 lockedWei;
        uint256 mintedDiemWei;
        uint256 weightWei;
        uint256 rewardPerTokenPaidX18;
        uint256 rewardsWei;
        uint192 coolingWei;
        uint64 coolingEndsAt;
    }

    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant X18 = 1e18;

    /// @inheritdoc IStakedVVV
    IVVV public immutable vvv;
    /// @inheritdoc IStakedVVV
    IDiem public immutable diem;
    /// @inheritdoc IStakedVVV
    uint256 public immutable cooldownSeconds;
    /// @inheritdoc IStakedVVV
    uint256 public immutable lockedWeightBps;
    uint256 internal immutable _baseWad;
    uint256 internal immutable _powerWad;
    uint256 internal immutable _targetWei;
    uint256 internal immutable _maxSupplyWei;

    /// @inheritdoc IStakedVVV
    uint256 public annualEmissionWei;
    /// @inheritdoc IStakedVVV
    uint256 public totalStaked;
    /// @inheritdoc IStakedVVV
    uint256 public totalLocked;
    /// @inheritdoc IStakedVVV
    uint256 public totalCooling;
    /// @inheritdoc IStakedVVV
    uint256 public totalWeight;

    uint256 internal _rewardPerTokenStoredX18;
    uint256 internal _lastAccrualTimestamp;
    mapping(address account => Account) internal _accounts;

    /// @param vvv_ The VVV token; this contract must then be set as its emissions minter.
    /// @param diem_ The DIEM token; this contract must then be set as its minter.
    /// @param owner_ May change the annual emission.
    /// @param config Parameters; see IStakedVVV.Config.
    constructor(IVVV vvv_, IDiem diem_, address owner_, Config memory config) Ownable(owner_) {
        if (address(vvv_) == address(0) || address(diem_) == address(0)) revert StakedVVVZeroAddress();
        if (config.lockedWeightBps > BPS) revert StakedVVVInvalidLockedWeight(config.lockedWeightBps);
        MintCurve.validate(
            MintCurve.Params({
                baseWad: config.baseWad,
                powerWad: config.powerWad,
                targetWei: config.targetWei,
                maxSupplyWei: config.maxSupplyWei
            })
        );
        vvv = vvv_;
        diem = diem_;
        cooldownSeconds = config.cooldownSeconds;
        lockedWeightBps = config.lockedWeightBps;
        _baseWad = config.baseWad;
        _powerWad = config.powerWad;
        _targetWei = config.targetWei;
        _maxSupplyWei = config.maxSupplyWei;
        annualEmissionWei = config.annualEmissionWei;
        _lastAccrualTimestamp = block.timestamp;
    }

    // ------------------------------------------------------------------------------------------------ staking

    /// @inheritdoc IStakedVVV
    function stake(uint256 amountWei) external {
        if (amountWei == 0) revert StakedVVVZeroAmount();
        Account storage account = _accounts[msg.sender];
        _checkpoint(msg.sender, account, account.stakedWei + amountWei, account.lockedWei);
        emit Staked(msg.sender, amountWei);
        vvv.safeTransferFrom(msg.sender, address(this), amountWei);
    }

    /// @inheritdoc IStakedVVV
    function initiateUnstake(uint256 amountWei) external {
        if (amountWei == 0) revert StakedVVVZeroAmount();
        Account storage account = _accounts[msg.sender];
        uint256 unlockedWei = account.stakedWei - account.lockedWei;
        if (amountWei > unlockedWei) revert StakedVVVInsufficientUnlocked(amountWei, unlockedWei);
        // amountWei <= unlockedWei <= stakedWei.
        unchecked {
            _checkpoint(msg.sender, account, account.stakedWei - amountWei, account.lockedWei);
        }
        uint256 coolingWei = uint256(account.coolingWei) + amountWei;
        uint256 endsAt = block.timestamp + cooldownSeconds;
        account.coolingWei = SafeCast.toUint192(coolingWei);
        account.coolingEndsAt = SafeCast.toUint64(endsAt);
        totalCooling += amountWei;
        emit UnstakeInitiated(msg.sender, amountWei, coolingWei, endsAt);
    }

    /// @inheritdoc IStakedVVV
    function withdraw() external returns (uint256 amountWei) {
        Account storage account = _accounts[msg.sender];
        amountWei = account.coolingWei;
        if (amountWei == 0) revert StakedVVVNothingCooling();
        if (block.timestamp < account.coolingEndsAt) revert StakedVVVCooldownActive(account.coolingEndsAt);
        account.coolingWei = 0;
        account.coolingEndsAt = 0;
        // totalCooling >= this account's cooling by I2.
        unchecked {
            totalCooling -= amountWei;
        }
        emit Withdrawn(msg.sender, amountWei);
        vvv.safeTransfer(msg.sender, amountWei);
    }

    // ------------------------------------------------------------------------------------------------ emissions

    /// @inheritdoc IStakedVVV
    function claimRewards() external returns (uint256 amountWei) {
        Account storage account = _accounts[msg.sender];
        _checkpoint(msg.sender, account, account.stakedWei, account.lockedWei);
        amountWei = account.rewardsWei;
        if (amountWei == 0) return 0;
        account.rewardsWei = 0;
        emit RewardsClaimed(msg.sender, amountWei);
        vvv.mint(msg.sender, amountWei);
    }

    /// @inheritdoc IStakedVVV
    function earned(address account) external view returns (uint256) {
        Account storage a = _accounts[account];
        return a.rewardsWei + _pendingWei(a, rewardPerTokenX18());
    }

    /// @inheritdoc IStakedVVV
    function rewardPerTokenX18() public view returns (uint256) {
        uint256 weightWei = totalWeight;
        // Nothing staked: the emissions of this interval are forfeited (not minted, not carried over).
        if (weightWei == 0) return _rewardPerTokenStoredX18;
        uint256 elapsedSeconds = block.timestamp - _lastAccrualTimestamp;
        // Rounds down: stakers are paid at most the schedule, never more.
        return _rewardPerTokenStoredX18
            + Math.mulDiv(annualEmissionWei * elapsedSeconds, X18, SECONDS_PER_YEAR * weightWei);
    }

    /// @inheritdoc IStakedVVV
    function setAnnualEmission(uint256 annualEmissionWei_) external onlyOwner {
        _accrue();
        emit AnnualEmissionSet(annualEmissionWei, annualEmissionWei_);
        annualEmissionWei = annualEmissionWei_;
    }

    // ------------------------------------------------------------------------------------------------ DIEM

    /// @inheritdoc IStakedVVV
    function mintDiem(uint256 diemAmountWei, uint256 maxSvvvInWei) external returns (uint256 svvvInWei) {
        svvvInWei = quoteMint(diemAmountWei);
        if (svvvInWei > maxSvvvInWei) revert StakedVVVSlippage(svvvInWei, maxSvvvInWei);
        Account storage account = _accounts[msg.sender];
        uint256 unlockedWei = account.stakedWei - account.lockedWei;
        if (svvvInWei > unlockedWei) revert StakedVVVInsufficientUnlocked(svvvInWei, unlockedWei);
        _checkpoint(msg.sender, account, account.stakedWei, account.lockedWei + svvvInWei);
        account.mintedDiemWei += diemAmountWei;
        emit DiemMinted(msg.sender, diemAmountWei, svvvInWei);
        diem.mint(msg.sender, diemAmountWei);
    }

    /// @inheritdoc IStakedVVV
    function burnDiem(uint256 diemAmountWei) external returns (uint256 svvvOutWei) {
        svvvOutWei = quoteBurn(msg.sender, diemAmountWei);
        Account storage account = _accounts[msg.sender];
        // quoteBurn checked diemAmountWei <= mintedDiemWei, and svvvOutWei <= lockedWei.
        unchecked {
            _checkpoint(msg.sender, account, account.stakedWei, account.lockedWei - svvvOutWei);
            account.mintedDiemWei -= diemAmountWei;
        }
        emit DiemBurned(msg.sender, diemAmountWei, svvvOutWei);
        // Reverts if the caller no longer holds the DIEM (e.g. it transferred or staked it).
        diem.burn(msg.sender, diemAmountWei);
    }

    /// @inheritdoc IStakedVVV
    function mintRate() external view returns (uint256 rateWad) {
        return MintCurve.rateWad(_curve(), diem.totalSupply());
    }

    /// @inheritdoc IStakedVVV
    function quoteMint(uint256 diemAmountWei) public view returns (uint256 svvvInWei) {
        return MintCurve.cost(_curve(), diem.totalSupply(), diemAmountWei);
    }

    /// @inheritdoc IStakedVVV
    function quoteBurn(address account, uint256 diemAmountWei) public view returns (uint256 svvvOutWei) {
        if (diemAmountWei == 0) revert StakedVVVZeroAmount();
        Account storage a = _accounts[account];
        uint256 mintedWei = a.mintedDiemWei;
        if (diemAmountWei > mintedWei) revert StakedVVVBurnExceedsMinted(diemAmountWei, mintedWei);
        // Rounds down: the holder never unlocks more than it locked; the remainder stays locked behind the remaining
        // DIEM and is released by the last burn (diemAmountWei == mintedWei gives exactly lockedWei).
        return Math.mulDiv(a.lockedWei, diemAmountWei, mintedWei);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IStakedVVV
    function stakedOf(address account) external view returns (uint256) {
        return _accounts[account].stakedWei;
    }

    /// @inheritdoc IStakedVVV
    function lockedOf(address account) external view returns (uint256) {
        return _accounts[account].lockedWei;
    }

    /// @inheritdoc IStakedVVV
    function unlockedOf(address account) external view returns (uint256) {
        Account storage a = _accounts[account];
        return a.stakedWei - a.lockedWei;
    }

    /// @inheritdoc IStakedVVV
    function mintedOf(address account) external view returns (uint256) {
        return _accounts[account].mintedDiemWei;
    }

    /// @inheritdoc IStakedVVV
    function weightOf(address account) external view returns (uint256) {
        return _accounts[account].weightWei;
    }

    /// @inheritdoc IStakedVVV
    function coolingOf(address account) external view returns (uint256 amountWei, uint256 endsAt) {
        Account storage a = _accounts[account];
        return (a.coolingWei, a.coolingEndsAt);
    }

    /// @inheritdoc IStakedVVV
    function curve() external view returns (uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei) {
        return (_baseWad, _powerWad, _targetWei, _maxSupplyWei);
    }

    /// @inheritdoc IStakedVVV
    function name() external pure returns (string memory) {
        return "Staked VVV";
    }

    /// @inheritdoc IStakedVVV
    function symbol() external pure returns (string memory) {
        return "sVVV";
    }

    /// @inheritdoc IStakedVVV
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @inheritdoc IStakedVVV
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].stakedWei;
    }

    /// @inheritdoc IStakedVVV
    function totalSupply() external view returns (uint256) {
        return totalStaked;
    }

    // ------------------------------------------------------------------------------------------------ internals

    /// @dev The single place where a stake changes: accrues the global accumulator, settles the account's rewards at
    /// its old weight, then applies the new staked and locked amounts, the new weight and the totals.
    function _checkpoint(address who, Account storage account, uint256 newStakedWei, uint256 newLockedWei) internal {
        uint256 rewardPerTokenX18_ = _accrue();
        account.rewardsWei += _pendingWei(account, rewardPerTokenX18_);
        account.rewardPerTokenPaidX18 = rewardPerTokenX18_;

        // Rounds down: locked sVVV earns at most its weight, in the protocol's favour.
        uint256 newWeightWei = newStakedWei - newLockedWei + newLockedWei * lockedWeightBps / BPS;
        totalStaked = totalStaked - account.stakedWei + newStakedWei;
        totalLocked = totalLocked - account.lockedWei + newLockedWei;
        totalWeight = totalWeight - account.weightWei + newWeightWei;
        account.stakedWei = newStakedWei;
        account.lockedWei = newLockedWei;
        account.weightWei = newWeightWei;
        emit StakeCheckpointed(who, newStakedWei, newLockedWei, newWeightWei);
    }

    function _accrue() internal returns (uint256 rewardPerTokenX18_) {
        rewardPerTokenX18_ = rewardPerTokenX18();
        _rewardPerTokenStoredX18 = rewardPerTokenX18_;
        _lastAccrualTimestamp = block.timestamp;
    }

    /// @dev Rounds down: the sum over accounts never exceeds totalWeight * Δaccumulator, itself <= the schedule.
    function _pendingWei(Account storage account, uint256 rewardPerTokenX18_) internal view returns (uint256) {
        return Math.mulDiv(account.weightWei, rewardPerTokenX18_ - account.rewardPerTokenPaidX18, X18);
    }

    function _curve() internal view returns (MintCurve.Params memory) {
        return MintCurve.Params({
            baseWad: _baseWad,
            powerWad: _powerWad,
            targetWei: _targetWei,
            maxSupplyWei: _maxSupplyWei
        });
    }
}
