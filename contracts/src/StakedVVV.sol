// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakedVVV} from "./interfaces/IStakedVVV.sol";
import {IVVV} from "./interfaces/IVVV.sol";
import {IDiem} from "./interfaces/IDiem.sol";
import {MintCurve} from "./libraries/MintCurve.sol";

/// @title StakedVVV
/// @notice sVVV: stake VVV, earn emissions on a decreasing schedule, lock sVVV to mint DIEM. Unlocked sVVV is a
/// transferable ERC20 balance; locked and cooling sVVV cannot move.
/// @dev Owner powers, the complete list (Ownable2Step):
///   - proposeAnnualEmission / cancelAnnualEmission: queue or drop one change of annualEmissionWei at a time. A change
///     applies no earlier than emissionChangeDelaySeconds after it was proposed (applyAnnualEmission, by anyone),
///     moves the effective rate by at most maxEmissionChangeBps of the ceiling, and never goes above the ceiling. The
///     ceiling starts at maxAnnualEmissionWei (<= 2^128 - 1) and falls by emissionDecayBps per 365 days on a schedule
///     fixed at deployment; emissions accrue at min(annualEmissionWei, ceiling), so the schedule binds even if the
///     owner never acts.
///   - transferOwnership + acceptOwnership (the new owner must accept); renounceOwnership (no proposal or cancellation
///     ever again: the rate is frozen once a proposal still pending is applied or found out of bounds).
///   Nothing else: the owner cannot move a holder's tokens, mint VVV or DIEM, or change any other parameter.
/// Invariants:
///   I1. vvv.balanceOf(this) >= totalStaked + totalCooling (equality unless VVV was sent here directly).
///   I2. For every account lockedOf <= stakedOf; totalStaked (= totalSupply), totalLocked, totalCooling, totalWeight
///       are the sums of the per-account values.
///   I3. lockedOf(a) > 0 iff mintedOf(a) > 0, and burning all of mintedOf(a) releases exactly lockedOf(a); so
///       totalLocked equals what burning the DIEM of every minter would release.
///   I4. Σ mintedOf = diem.totalSupply() (this contract is the only DIEM minter and burns only through burnDiem).
///   I5. VVV minted as emissions + Σ earned <= ∫ min(annualEmissionWei(t), ceiling(t)) dt / 365 days over the time
///       during which totalWeight > 0 (every division rounds down); time with totalWeight 0 is forfeited, never
///       minted. Hence emissions never exceed ∫ ceiling(t) dt / 365 days, whatever the owner does.
///   I6. Every stake change goes through _checkpoint, after _accrue, which settles the account at its old weight
///       before the weight changes; every balance change (stake, unstake, transfer) goes through _update, which does
///       this for both sides with one accrual.
///   I7. annualEmissionWei <= ceiling(time it was set) <= maxAnnualEmissionWei <= 2^128 - 1, and ceiling(t) is
///       non-increasing in t.
///   I8. Only unlocked sVVV moves between accounts: lockedOf and mintedOf change only through the account's own
///       mintDiem/burnDiem, and cooling sVVV only through its own initiateUnstake/withdraw.
contract StakedVVV is IStakedVVV, Ownable2Step {
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

    /// @dev When rewards were last accrued, and the schedule step and ceiling at that time (one slot).
    struct Accrual {
        uint64 timestamp;
        uint64 step;
        uint128 ceilingWei;
    }

    /// @dev The pending change of annualEmissionWei; effectiveAt == 0 means none (one slot).
    struct Proposal {
        uint128 annualEmissionWei;
        uint64 effectiveAt;
    }

    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant X18 = 1e18;
    /// @dev Keeps every rate below 2^128: rate * seconds (< 2^64) < 2^192, and * 1e18 (< 2^60) < 2^252.
    uint256 internal constant EMISSION_BOUND_WEI = type(uint128).max;
    uint256 internal constant MAX_EMISSION_CHANGE_DELAY_SECONDS = 365 days;

    /// @inheritdoc IStakedVVV
    IVVV public immutable vvv;
    /// @inheritdoc IStakedVVV
    IDiem public immutable diem;
    /// @inheritdoc IStakedVVV
    uint256 public immutable cooldownSeconds;
    /// @inheritdoc IStakedVVV
    uint256 public immutable lockedWeightBps;
    /// @inheritdoc IStakedVVV
    uint256 public immutable maxAnnualEmissionWei;
    /// @inheritdoc IStakedVVV
    uint256 public immutable emissionDecayBps;
    /// @inheritdoc IStakedVVV
    uint256 public immutable maxEmissionChangeBps;
    /// @inheritdoc IStakedVVV
    uint256 public immutable emissionChangeDelaySeconds;
    /// @inheritdoc IStakedVVV
    uint256 public immutable emissionStartTimestamp;
    /// @inheritdoc IStakedVVV
    uint256 public immutable launchWindowEndsAt;
    /// @inheritdoc IStakedVVV
    uint256 public immutable launchMintCapWei;
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
    Accrual internal _accrual;
    Proposal internal _proposal;
    mapping(address account => Account) internal _accounts;
    mapping(address holder => mapping(address spender => uint256 amountWei)) internal _allowances;
    mapping(address account => uint256 diemWei) internal _launchMintedWei;

    /// @param vvv_ The VVV token; this contract must then be set as its emissions minter.
    /// @param diem_ The DIEM token; this contract must then be set as its minter.
    /// @param owner_ May propose bounded, timelocked emission changes (see the header).
    /// @param config Parameters; see IStakedVVV.Config.
    constructor(IVVV vvv_, IDiem diem_, address owner_, Config memory config) Ownable(owner_) {
        if (address(vvv_) == address(0) || address(diem_) == address(0)) revert StakedVVVZeroAddress();
        if (config.lockedWeightBps > BPS) revert StakedVVVInvalidLockedWeight(config.lockedWeightBps);
        if (config.maxAnnualEmissionWei > EMISSION_BOUND_WEI) {
            revert StakedVVVEmissionBoundTooHigh(config.maxAnnualEmissionWei, EMISSION_BOUND_WEI);
        }
        if (config.annualEmissionWei > config.maxAnnualEmissionWei) {
            revert StakedVVVEmissionAboveCeiling(config.annualEmissionWei, config.maxAnnualEmissionWei);
        }
        if (config.emissionDecayBps > BPS) revert StakedVVVInvalidEmissionDecay(config.emissionDecayBps);
        if (config.maxEmissionChangeBps > BPS) revert StakedVVVInvalidEmissionChange(config.maxEmissionChangeBps);
        if (config.emissionChangeDelaySeconds > MAX_EMISSION_CHANGE_DELAY_SECONDS) {
            revert StakedVVVEmissionDelayTooLong(config.emissionChangeDelaySeconds, MAX_EMISSION_CHANGE_DELAY_SECONDS);
        }
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
        maxAnnualEmissionWei = config.maxAnnualEmissionWei;
        emissionDecayBps = config.emissionDecayBps;
        maxEmissionChangeBps = config.maxEmissionChangeBps;
        emissionChangeDelaySeconds = config.emissionChangeDelaySeconds;
        emissionStartTimestamp = block.timestamp;
        launchWindowEndsAt = block.timestamp + config.launchWindowSeconds;
        launchMintCapWei = config.launchMintCapWei;
        _baseWad = config.baseWad;
        _powerWad = config.powerWad;
        _targetWei = config.targetWei;
        _maxSupplyWei = config.maxSupplyWei;
        annualEmissionWei = config.annualEmissionWei;
        // maxAnnualEmissionWei <= EMISSION_BOUND_WEI = type(uint128).max was checked above.
        _accrual = Accrual({
            timestamp: SafeCast.toUint64(block.timestamp), step: 0, ceilingWei: uint128(config.maxAnnualEmissionWei)
        });
    }

    // ------------------------------------------------------------------------------------------------ staking

    /// @inheritdoc IStakedVVV
    function stake(uint256 amountWei) external {
        if (amountWei == 0) revert StakedVVVZeroAmount();
        _update(address(0), msg.sender, amountWei);
        emit Staked(msg.sender, amountWei);
        vvv.safeTransferFrom(msg.sender, address(this), amountWei);
    }

    /// @inheritdoc IStakedVVV
    function initiateUnstake(uint256 amountWei) external {
        if (amountWei == 0) revert StakedVVVZeroAmount();
        _update(msg.sender, address(0), amountWei);
        Account storage account = _accounts[msg.sender];
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

    // ------------------------------------------------------------------------------------------------ ERC20

    /// @inheritdoc IERC20
    /// @dev Moves unlocked sVVV only; the rewards of both sides are settled first (see _update).
    function transfer(address to, uint256 amountWei) external returns (bool) {
        _transfer(msg.sender, to, amountWei);
        return true;
    }

    /// @inheritdoc IERC20
    /// @dev An allowance of type(uint256).max is never decreased.
    function transferFrom(address from, address to, uint256 amountWei) external returns (bool) {
        _spendAllowance(from, msg.sender, amountWei);
        _transfer(from, to, amountWei);
        return true;
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 amountWei) external returns (bool) {
        if (spender == address(0)) revert StakedVVVInvalidApproval(msg.sender, spender);
        _allowances[msg.sender][spender] = amountWei;
        emit Approval(msg.sender, spender, amountWei);
        return true;
    }

    /// @inheritdoc IERC20
    function allowance(address holder, address spender) external view returns (uint256) {
        return _allowances[holder][spender];
    }

    /// @inheritdoc IERC20
    /// @dev Same as stakedOf: locked + unlocked, without cooling.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].stakedWei;
    }

    /// @inheritdoc IERC20
    /// @dev Same as totalStaked.
    function totalSupply() external view returns (uint256) {
        return totalStaked;
    }

    /// @inheritdoc IERC20Metadata
    function name() external pure returns (string memory) {
        return "Staked VVV";
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external pure returns (string memory) {
        return "sVVV";
    }

    /// @inheritdoc IERC20Metadata
    function decimals() external pure returns (uint8) {
        return 18;
    }

    // ------------------------------------------------------------------------------------------------ emissions

    /// @inheritdoc IStakedVVV
    function claimRewards() external returns (uint256 amountWei) {
        Account storage account = _accounts[msg.sender];
        _checkpoint(msg.sender, account, _accrue(), account.stakedWei, account.lockedWei);
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
        (uint256 emittedWeiSeconds,,) = _emissionSinceAccrual(block.timestamp);
        return _rewardPerTokenStoredX18 + _rewardPerWeightX18(emittedWeiSeconds, weightWei);
    }

    /// @inheritdoc IStakedVVV
    function proposeAnnualEmission(uint256 annualEmissionWei_) external onlyOwner {
        Proposal memory pending = _proposal;
        if (pending.effectiveAt != 0) {
            revert StakedVVVEmissionChangePending(pending.annualEmissionWei, pending.effectiveAt);
        }
        // block.timestamp > 0 on every chain, so effectiveAt != 0 marks a pending proposal.
        uint256 effectiveAt = block.timestamp + emissionChangeDelaySeconds;
        _checkEmissionChange(annualEmissionWei_, _ceilingAt(effectiveAt));
        _proposal = Proposal({
            annualEmissionWei: SafeCast.toUint128(annualEmissionWei_), effectiveAt: SafeCast.toUint64(effectiveAt)
        });
        emit AnnualEmissionProposed(annualEmissionWei_, effectiveAt);
    }

    /// @inheritdoc IStakedVVV
    function cancelAnnualEmission() external onlyOwner {
        Proposal memory pending = _proposal;
        if (pending.effectiveAt == 0) revert StakedVVVNoEmissionChangePending();
        delete _proposal;
        emit AnnualEmissionCancelled(pending.annualEmissionWei, pending.effectiveAt);
    }

    /// @inheritdoc IStakedVVV
    function applyAnnualEmission() external {
        Proposal memory pending = _proposal;
        if (pending.effectiveAt == 0) revert StakedVVVNoEmissionChangePending();
        if (block.timestamp < pending.effectiveAt) revert StakedVVVEmissionChangeNotReady(pending.effectiveAt);
        // Accrues at the old rate up to now; the cursor then holds the ceiling of now.
        _accrue();
        _checkEmissionChange(pending.annualEmissionWei, _accrual.ceilingWei);
        delete _proposal;
        emit AnnualEmissionSet(annualEmissionWei, pending.annualEmissionWei);
        annualEmissionWei = pending.annualEmissionWei;
    }

    /// @inheritdoc IStakedVVV
    function pendingAnnualEmission() external view returns (uint256 annualEmissionWei_, uint256 effectiveAt) {
        Proposal memory pending = _proposal;
        return (pending.annualEmissionWei, pending.effectiveAt);
    }

    /// @inheritdoc IStakedVVV
    function emissionCeilingWei() external view returns (uint256) {
        return _ceilingAt(block.timestamp);
    }

    /// @inheritdoc IStakedVVV
    function emissionCeilingAt(uint256 timestamp) external view returns (uint256) {
        return _ceilingAt(timestamp);
    }

    /// @inheritdoc IStakedVVV
    function effectiveAnnualEmissionWei() external view returns (uint256) {
        return Math.min(annualEmissionWei, _ceilingAt(block.timestamp));
    }

    // ------------------------------------------------------------------------------------------------ DIEM

    /// @inheritdoc IStakedVVV
    function mintDiem(uint256 diemAmountWei, uint256 maxSvvvInWei) external returns (uint256 svvvInWei) {
        svvvInWei = quoteMint(diemAmountWei);
        if (svvvInWei > maxSvvvInWei) revert StakedVVVSlippage(svvvInWei, maxSvvvInWei);
        if (block.timestamp < launchWindowEndsAt) _spendLaunchCap(msg.sender, diemAmountWei);
        Account storage account = _accounts[msg.sender];
        uint256 unlockedWei = account.stakedWei - account.lockedWei;
        if (svvvInWei > unlockedWei) revert StakedVVVInsufficientUnlocked(svvvInWei, unlockedWei);
        _checkpoint(msg.sender, account, _accrue(), account.stakedWei, account.lockedWei + svvvInWei);
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
            _checkpoint(msg.sender, account, _accrue(), account.stakedWei, account.lockedWei - svvvOutWei);
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
    function launchMintedOf(address account) external view returns (uint256) {
        return _launchMintedWei[account];
    }

    /// @inheritdoc IStakedVVV
    function curve() external view returns (uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei) {
        return (_baseWad, _powerWad, _targetWei, _maxSupplyWei);
    }

    // ------------------------------------------------------------------------------------------------ internals

    /// @dev The single place where sVVV balances change (OpenZeppelin's _update): from == 0 is a stake, to == 0 an
    /// unstake, otherwise a transfer. Accrues once, then settles each side at its old weight before its weight changes,
    /// so rewards earned before the move stay with the sender and the receiver earns from now on. Only unlocked sVVV
    /// leaves an account; lockedOf, mintedOf and cooling are never touched here.
    function _update(address from, address to, uint256 amountWei) internal {
        uint256 rewardPerTokenX18_ = _accrue();
        if (from != address(0)) {
            Account storage source = _accounts[from];
            uint256 unlockedWei = source.stakedWei - source.lockedWei;
            if (amountWei > unlockedWei) revert StakedVVVInsufficientUnlocked(amountWei, unlockedWei);
            // amountWei <= unlockedWei <= stakedWei.
            unchecked {
                _checkpoint(from, source, rewardPerTokenX18_, source.stakedWei - amountWei, source.lockedWei);
            }
        }
        if (to != address(0)) {
            Account storage target = _accounts[to];
            _checkpoint(to, target, rewardPerTokenX18_, target.stakedWei + amountWei, target.lockedWei);
        }
        emit Transfer(from, to, amountWei);
    }

    function _transfer(address from, address to, uint256 amountWei) internal {
        if (from == address(0)) revert StakedVVVInvalidSender(from);
        // sVVV held by this contract could never be unstaked or claimed.
        if (to == address(0) || to == address(this)) revert StakedVVVInvalidReceiver(to);
        _update(from, to, amountWei);
    }

    function _spendAllowance(address holder, address spender, uint256 amountWei) internal {
        uint256 allowanceWei = _allowances[holder][spender];
        if (allowanceWei == type(uint256).max) return;
        if (amountWei > allowanceWei) revert StakedVVVInsufficientAllowance(spender, allowanceWei, amountWei);
        // amountWei <= allowanceWei.
        unchecked {
            _allowances[holder][spender] = allowanceWei - amountWei;
        }
    }

    /// @dev The single place where a stake changes: settles the account's rewards at its old weight against the
    /// accumulator `rewardPerTokenX18_` (just accrued to now), then applies the new staked and locked amounts, the new
    /// weight and the totals.
    function _checkpoint(
        address who,
        Account storage account,
        uint256 rewardPerTokenX18_,
        uint256 newStakedWei,
        uint256 newLockedWei
    ) internal {
        account.rewardsWei += _pendingWei(account, rewardPerTokenX18_);
        account.rewardPerTokenPaidX18 = rewardPerTokenX18_;

        // Rounds down: locked sVVV earns at most its weight, in the protocol's favour. mulDiv: newLockedWei is only
        // bounded by the VVV supply, so newLockedWei * lockedWeightBps is not known to fit.
        uint256 newWeightWei = newStakedWei - newLockedWei + Math.mulDiv(newLockedWei, lockedWeightBps, BPS);
        totalStaked = totalStaked - account.stakedWei + newStakedWei;
        totalLocked = totalLocked - account.lockedWei + newLockedWei;
        totalWeight = totalWeight - account.weightWei + newWeightWei;
        account.stakedWei = newStakedWei;
        account.lockedWei = newLockedWei;
        account.weightWei = newWeightWei;
        emit StakeCheckpointed(who, newStakedWei, newLockedWei, newWeightWei);
    }

    /// @dev Brings the accumulator and the schedule cursor to now. Emissions since the last accrual are paid at the
    /// rate in force then (applyAnnualEmission accrues before changing it), capped by the ceiling of each step.
    function _accrue() internal returns (uint256 rewardPerTokenX18_) {
        (uint256 emittedWeiSeconds, uint256 step, uint256 ceilingWei) = _emissionSinceAccrual(block.timestamp);
        rewardPerTokenX18_ = _rewardPerTokenStoredX18;
        uint256 weightWei = totalWeight;
        // Nothing staked: the emissions of this interval are forfeited (not minted, not carried over).
        if (weightWei != 0 && emittedWeiSeconds != 0) {
            rewardPerTokenX18_ += _rewardPerWeightX18(emittedWeiSeconds, weightWei);
            _rewardPerTokenStoredX18 = rewardPerTokenX18_;
        }
        // Casting is safe: step < block.timestamp < 2^64 (checked), and ceilingWei <= the cursor's, a uint128.
        _accrual = Accrual({
            timestamp: SafeCast.toUint64(block.timestamp),
            // forge-lint: disable-next-line(unsafe-typecast)
            step: uint64(step),
            // forge-lint: disable-next-line(unsafe-typecast)
            ceilingWei: uint128(ceilingWei)
        });
    }

    /// @dev ∫ min(annualEmissionWei, ceiling(t)) dt from the last accrual to `toTimestamp`, in wei·seconds (divide by
    /// 365 days for wei), integrated per segment between 365-day step boundaries; and the step and ceiling at
    /// `toTimestamp`. Iterations: one per step boundary crossed since the last accrual (at most one in any year with
    /// activity, so only idle years cost gas, and nobody can add iterations), and none once the ceiling stops changing
    /// (decay 0, or the ceiling reached 0).
    /// Sizes: rate and ceiling <= 2^128 - 1 (I7) and the seconds since the last accrual < 2^64 (SafeCast in _accrue), so
    /// every product and the sum stay below 2^192.
    function _emissionSinceAccrual(uint256 toTimestamp)
        internal
        view
        returns (uint256 emittedWeiSeconds, uint256 toStep, uint256 ceilingWei)
    {
        Accrual memory cursor = _accrual;
        uint256 fromTimestamp = cursor.timestamp;
        uint256 step = cursor.step;
        ceilingWei = cursor.ceilingWei;
        uint256 rateWei = annualEmissionWei;
        toStep = _stepAt(toTimestamp);
        while (step < toStep && ceilingWei != 0 && emissionDecayBps != 0) {
            uint256 boundaryTimestamp = emissionStartTimestamp + (step + 1) * SECONDS_PER_YEAR;
            emittedWeiSeconds += Math.min(rateWei, ceilingWei) * (boundaryTimestamp - fromTimestamp);
            fromTimestamp = boundaryTimestamp;
            ceilingWei = _decayed(ceilingWei);
            ++step;
        }
        // From fromTimestamp on the ceiling no longer changes before toTimestamp.
        emittedWeiSeconds += Math.min(rateWei, ceilingWei) * (toTimestamp - fromTimestamp);
    }

    /// @dev The accumulator increase for `emittedWeiSeconds` shared by `weightWei`: emitted * 1e18 / (year * weight).
    /// Rounds down (floor(floor(a / w) / y) = floor(a / (w * y))): stakers are paid at most the schedule. mulDiv:
    /// emitted * 1e18 < 2^252 may not fit with the year; dividing by the year afterwards avoids year * weight, which
    /// could overflow for a weight near the VVV supply.
    function _rewardPerWeightX18(uint256 emittedWeiSeconds, uint256 weightWei) internal pure returns (uint256) {
        return Math.mulDiv(emittedWeiSeconds, X18, weightWei) / SECONDS_PER_YEAR;
    }

    /// @dev The ceiling at `timestamp`: from the cursor when it is at or after the cursor's step, else from launch.
    function _ceilingAt(uint256 timestamp) internal view returns (uint256 ceilingWei) {
        Accrual memory cursor = _accrual;
        uint256 step = cursor.step;
        ceilingWei = cursor.ceilingWei;
        uint256 toStep = _stepAt(timestamp);
        if (toStep < step) {
            step = 0;
            ceilingWei = maxAnnualEmissionWei;
        }
        // Bounded as in _emissionSinceAccrual: one iteration per step, none once the ceiling stops changing.
        while (step < toStep && ceilingWei != 0 && emissionDecayBps != 0) {
            ceilingWei = _decayed(ceilingWei);
            ++step;
        }
    }

    /// @dev One step of the schedule. Rounds down: the ceiling never exceeds max * (1 - decay)^k, and floor of a
    /// non-increasing step keeps the sequence non-increasing. ceilingWei < 2^128, so the product fits.
    function _decayed(uint256 ceilingWei) internal view returns (uint256) {
        return ceilingWei * (BPS - emissionDecayBps) / BPS;
    }

    /// @dev The 365-day step of `timestamp` since deployment (0 before it). Rounds down: a step starts at its boundary.
    function _stepAt(uint256 timestamp) internal view returns (uint256) {
        return timestamp <= emissionStartTimestamp ? 0 : (timestamp - emissionStartTimestamp) / SECONDS_PER_YEAR;
    }

    /// @dev A change to `newWei`, checked against `ceilingWei`, the ceiling when it would take effect: not above it,
    /// and at most maxEmissionChangeBps of it away from the effective rate min(annualEmissionWei, ceilingWei), so a rate
    /// at 0 can still rise and a rate above a fallen ceiling is measured from the ceiling.
    function _checkEmissionChange(uint256 newWei, uint256 ceilingWei) internal view {
        if (newWei > ceilingWei) revert StakedVVVEmissionAboveCeiling(newWei, ceilingWei);
        uint256 currentWei = Math.min(annualEmissionWei, ceilingWei);
        // Rounds down: the bound is never looser than stated. ceilingWei < 2^128, so the product fits.
        uint256 maxChangeWei = ceilingWei * maxEmissionChangeBps / BPS;
        uint256 changeWei = newWei > currentWei ? newWei - currentWei : currentWei - newWei;
        if (changeWei > maxChangeWei) revert StakedVVVEmissionChangeTooLarge(currentWei, newWei, maxChangeWei);
    }

    function _spendLaunchCap(address account, uint256 diemAmountWei) internal {
        uint256 mintedWei = _launchMintedWei[account];
        // diemAmountWei <= maxSupplyWei (quoteMint checked it), so the sum cannot overflow.
        if (mintedWei + diemAmountWei > launchMintCapWei) {
            revert StakedVVVLaunchMintCapExceeded(diemAmountWei, mintedWei, launchMintCapWei);
        }
        _launchMintedWei[account] = mintedWei + diemAmountWei;
    }

    /// @dev Rounds down: the holder's share of the accumulator increase; the sum over accounts never exceeds
    /// totalWeight * Δaccumulator, itself <= the schedule. mulDiv: weight * Δaccumulator may exceed 2^256.
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
