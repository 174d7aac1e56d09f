// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IVVV} from "./IVVV.sol";
import {IDiem} from "./IDiem.sol";

/// @title IStakedVVV
/// @notice sVVV: the staking receipt for VVV, an ERC20 whose unlocked part is transferable (as Venice's sVVV is).
/// Stakers earn VVV emissions and lock sVVV to mint DIEM.
/// @dev Balances of an account:
///   - staked (= balanceOf): active sVVV, split into `locked` (backing DIEM the account minted) and `unlocked` (the
///     rest). Only unlocked sVVV can be transferred; locked sVVV, mintedOf and lockedOf stay with the minter.
///   - cooling: sVVV in its unstake cooldown; it is not in the balance, earns nothing, counts for nothing, cannot move,
///     and is paid out by withdraw().
/// stake() emits Transfer(0, account) and initiateUnstake() Transfer(account, 0), so balances are indexable from
/// Transfer events alone; mintDiem/burnDiem move nothing between accounts and emit no Transfer.
///
/// Emissions accrue per second at min(annualEmissionWei, emissionCeilingWei) / 365 days, shared by weight: unlocked
/// sVVV weighs 1, locked sVVV weighs lockedWeightBps / 10,000. Rewards follow the holder: when sVVV moves, both sides
/// are settled at their old weight first, so the sender keeps what it earned before and the receiver earns from the
/// transfer on. While the total weight is zero, the emissions of that time are not minted at all (forfeited).
///
/// Emission schedule: the ceiling starts at maxAnnualEmissionWei and falls by emissionDecayBps once per 365 days since
/// deployment (step k: ceiling(k) = floor(ceiling(k - 1) * (10,000 - emissionDecayBps) / 10,000)). It binds even if
/// the owner never acts. The owner can move annualEmissionWei only through a timelocked proposal, by at most
/// maxEmissionChangeBps of the ceiling per change, and never above the ceiling.
interface IStakedVVV is IERC20Metadata {
    /// @notice Deployment parameters.
    /// @param annualEmissionWei VVV minted per 365 days to stakers at launch (default 10,000,000e18); at most
    /// maxAnnualEmissionWei.
    /// @param maxAnnualEmissionWei The emission ceiling at launch (default 14,000,000e18, Venice's launch rate); at most
    /// 2^128 - 1, so that no reward product can overflow.
    /// @param emissionDecayBps The ceiling falls by this fraction once per 365 days (default 1,500 = 15%); at most
    /// 10,000.
    /// @param maxEmissionChangeBps One change moves annualEmissionWei by at most this fraction of the ceiling at the
    /// time (default 2,000 = 20%); at most 10,000. 0 freezes the rate.
    /// @param emissionChangeDelaySeconds Timelock between a proposal and its earliest application (default 2 days); at
    /// most 365 days.
    /// @param cooldownSeconds Unstake cooldown (default 7 days).
    /// @param lockedWeightBps Reward weight of locked sVVV, in basis points (default 8,000 = 80%), at most 10,000.
    /// @param baseWad Mint curve rate at zero supply, sVVV per DIEM scaled by 1e18 (default 90e18).
    /// @param powerWad Mint curve exponent multiplier, scaled by 1e18 (default 2e18).
    /// @param targetWei Mint curve target supply, DIEM wei (default 38,000e18).
    /// @param maxSupplyWei DIEM supply cap, a multiple of 10 DIEM (default 100,000e18); see MintCurve.validate.
    /// @param launchWindowSeconds Launch guard length after deployment (default 0 = off).
    /// @param launchMintCapWei During the launch window, the most DIEM one address may mint in total (burning does not
    /// give it back). With a window and a cap of 0, nobody can mint during the window.
    struct Config {
        uint256 annualEmissionWei;
        uint256 maxAnnualEmissionWei;
        uint256 emissionDecayBps;
        uint256 maxEmissionChangeBps;
        uint256 emissionChangeDelaySeconds;
        uint256 cooldownSeconds;
        uint256 lockedWeightBps;
        uint256 baseWad;
        uint256 powerWad;
        uint256 targetWei;
        uint256 maxSupplyWei;
        uint256 launchWindowSeconds;
        uint256 launchMintCapWei;
    }

    /// @notice `account` staked `amountWei` VVV.
    event Staked(address indexed account, uint256 amountWei);
    /// @notice `account` moved `amountWei` sVVV into cooldown; `coolingWei` now cools until `coolingEndsAt`.
    event UnstakeInitiated(address indexed account, uint256 amountWei, uint256 coolingWei, uint256 coolingEndsAt);
    /// @notice `account` withdrew `amountWei` VVV after its cooldown.
    event Withdrawn(address indexed account, uint256 amountWei);
    /// @notice `account` claimed `amountWei` VVV of emissions (minted to it).
    event RewardsClaimed(address indexed account, uint256 amountWei);
    /// @notice `account` locked `svvvLockedWei` sVVV and minted `diemWei` DIEM.
    event DiemMinted(address indexed account, uint256 diemWei, uint256 svvvLockedWei);
    /// @notice `account` burned `diemWei` DIEM and unlocked `svvvUnlockedWei` sVVV.
    event DiemBurned(address indexed account, uint256 diemWei, uint256 svvvUnlockedWei);
    /// @notice The stake of `account` changed (emitted by every stake change, after reward accrual).
    event StakeCheckpointed(address indexed account, uint256 stakedWei, uint256 lockedWei, uint256 weightWei);
    /// @notice The owner proposed `annualEmissionWei`, applicable by anyone from `effectiveAt`.
    event AnnualEmissionProposed(uint256 annualEmissionWei, uint256 effectiveAt);
    /// @notice The owner cancelled the pending proposal of `annualEmissionWei`.
    event AnnualEmissionCancelled(uint256 annualEmissionWei, uint256 effectiveAt);
    /// @notice A proposal was applied (emissions up to now were accrued at the old value).
    event AnnualEmissionSet(uint256 previousAnnualEmissionWei, uint256 annualEmissionWei);

    /// @notice A zero amount where a positive one is required.
    error StakedVVVZeroAmount();
    /// @notice A zero address where a contract is required.
    error StakedVVVZeroAddress();
    /// @notice `requestedWei` exceeds the caller's unlocked sVVV `unlockedWei` (unstake, mint or transfer).
    error StakedVVVInsufficientUnlocked(uint256 requestedWei, uint256 unlockedWei);
    /// @notice withdraw() with nothing in cooldown.
    error StakedVVVNothingCooling();
    /// @notice withdraw() before the cooldown ends at `endsAt`.
    error StakedVVVCooldownActive(uint256 endsAt);
    /// @notice The mint would lock `svvvInWei`, more than the caller's limit `maxSvvvInWei`.
    error StakedVVVSlippage(uint256 svvvInWei, uint256 maxSvvvInWei);
    /// @notice Burning `diemWei` exceeds the DIEM the account minted and has not burned yet, `mintedWei`. An account
    /// that never minted (e.g. received DIEM by transfer) has mintedWei = 0 and cannot unlock anything.
    error StakedVVVBurnExceedsMinted(uint256 diemWei, uint256 mintedWei);
    /// @notice The locked weight `lockedWeightBps` is above 10,000.
    error StakedVVVInvalidLockedWeight(uint256 lockedWeightBps);
    /// @notice The launch ceiling `maxAnnualEmissionWei` is above the absolute bound `boundWei` (2^128 - 1).
    error StakedVVVEmissionBoundTooHigh(uint256 maxAnnualEmissionWei, uint256 boundWei);
    /// @notice `emissionDecayBps` is above 10,000.
    error StakedVVVInvalidEmissionDecay(uint256 emissionDecayBps);
    /// @notice `maxEmissionChangeBps` is above 10,000.
    error StakedVVVInvalidEmissionChange(uint256 maxEmissionChangeBps);
    /// @notice The timelock `delaySeconds` is above `maxDelaySeconds` (365 days).
    error StakedVVVEmissionDelayTooLong(uint256 delaySeconds, uint256 maxDelaySeconds);
    /// @notice `annualEmissionWei` is above the emission ceiling `ceilingWei` at the time it would apply.
    error StakedVVVEmissionAboveCeiling(uint256 annualEmissionWei, uint256 ceilingWei);
    /// @notice Moving the effective rate from `currentWei` to `proposedWei` exceeds the per-change bound `maxChangeWei`.
    error StakedVVVEmissionChangeTooLarge(uint256 currentWei, uint256 proposedWei, uint256 maxChangeWei);
    /// @notice A proposal of `annualEmissionWei` effective at `effectiveAt` is already pending; cancel it first.
    error StakedVVVEmissionChangePending(uint256 annualEmissionWei, uint256 effectiveAt);
    /// @notice cancel or apply with no proposal pending.
    error StakedVVVNoEmissionChangePending();
    /// @notice applyAnnualEmission() before the proposal's `effectiveAt`.
    error StakedVVVEmissionChangeNotReady(uint256 effectiveAt);
    /// @notice `spender` may move `allowanceWei` of the owner's sVVV, less than the `neededWei` requested.
    error StakedVVVInsufficientAllowance(address spender, uint256 allowanceWei, uint256 neededWei);
    /// @notice sVVV cannot be sent from `sender` (the zero address).
    error StakedVVVInvalidSender(address sender);
    /// @notice sVVV cannot be sent to `receiver` (the zero address, or this contract, where it would be stuck).
    error StakedVVVInvalidReceiver(address receiver);
    /// @notice The zero address cannot be approved, nor approve.
    error StakedVVVInvalidApproval(address owner, address spender);
    /// @notice During the launch window, minting `diemWei` more on top of `mintedWei` exceeds the per-address
    /// `capWei`.
    error StakedVVVLaunchMintCapExceeded(uint256 diemWei, uint256 mintedWei, uint256 capWei);

    // ---------------------------------------------------------------- staking

    /// @notice Stakes `amountWei` VVV from the caller (needs an allowance) and credits as much unlocked sVVV. Emits
    /// Transfer(0, caller).
    function stake(uint256 amountWei) external;

    /// @notice Moves `amountWei` of the caller's unlocked sVVV into cooldown. Restarts the cooldown for everything
    /// already cooling. Cooling sVVV earns nothing, cannot be locked and cannot be transferred. Emits
    /// Transfer(caller, 0).
    function initiateUnstake(uint256 amountWei) external;

    /// @notice Pays out all cooling sVVV as VVV once the cooldown has ended.
    /// @return amountWei The VVV paid.
    function withdraw() external returns (uint256 amountWei);

    // ---------------------------------------------------------------- emissions

    /// @notice Mints the caller's accrued emissions to it. Claiming nothing is a no-op that returns 0.
    /// @return amountWei The VVV minted.
    function claimRewards() external returns (uint256 amountWei);

    /// @notice The VVV `account` could claim now.
    function earned(address account) external view returns (uint256);

    /// @notice Proposes a new annualEmissionWei, applicable from now + emissionChangeDelaySeconds. Owner only; one
    /// proposal at a time. At the effective time it must be <= the ceiling and within maxEmissionChangeBps of the
    /// ceiling from the effective rate; both are checked again when it is applied.
    function proposeAnnualEmission(uint256 annualEmissionWei) external;

    /// @notice Drops the pending proposal. Owner only.
    function cancelAnnualEmission() external;

    /// @notice Applies the pending proposal once its effectiveAt has passed; callable by anyone. Accrues everything up
    /// to now at the old rate first. Reverts (the proposal stays pending) if the bound or the ceiling no longer holds.
    function applyAnnualEmission() external;

    /// @notice The pending proposal, or (0, 0) when there is none.
    function pendingAnnualEmission() external view returns (uint256 annualEmissionWei, uint256 effectiveAt);

    /// @notice The emission ceiling now.
    function emissionCeilingWei() external view returns (uint256);

    /// @notice The emission ceiling at `timestamp` (the launch ceiling for any time before deployment).
    function emissionCeilingAt(uint256 timestamp) external view returns (uint256);

    /// @notice The rate emissions accrue at now: min(annualEmissionWei, emissionCeilingWei).
    function effectiveAnnualEmissionWei() external view returns (uint256);

    // ---------------------------------------------------------------- DIEM

    /// @notice Locks sVVV from the caller's unlocked stake and mints `diemAmountWei` DIEM to it. The sVVV locked is
    /// the integral of the mint curve over the supply interval (see MintCurve), rounded up. During the launch window
    /// an address may mint at most launchMintCapWei in total; this bounds one address only (a sniper can split over
    /// many addresses), while the rising curve prices whatever the addresses mint together.
    /// @param diemAmountWei DIEM to mint.
    /// @param maxSvvvInWei Slippage limit: reverts if the mint would lock more.
    /// @return svvvInWei The sVVV locked.
    function mintDiem(uint256 diemAmountWei, uint256 maxSvvvInWei) external returns (uint256 svvvInWei);

    /// @notice Burns `diemAmountWei` of the caller's DIEM and unlocks the caller's locked sVVV pro rata at its own lock
    /// ratio: lockedOf(caller) * diemAmountWei / mintedOf(caller), rounded down. Burning all of mintedOf unlocks
    /// everything. Reverts if `diemAmountWei` exceeds mintedOf(caller).
    /// @return svvvOutWei The sVVV unlocked.
    function burnDiem(uint256 diemAmountWei) external returns (uint256 svvvOutWei);

    /// @notice The current mint rate, sVVV per DIEM scaled by 1e18, at the current DIEM supply.
    function mintRate() external view returns (uint256 rateWad);

    /// @notice The sVVV that minting `diemAmountWei` DIEM now would lock.
    function quoteMint(uint256 diemAmountWei) external view returns (uint256 svvvInWei);

    /// @notice The sVVV that `account` burning `diemAmountWei` DIEM now would unlock.
    function quoteBurn(address account, uint256 diemAmountWei) external view returns (uint256 svvvOutWei);

    // ---------------------------------------------------------------- views

    /// @notice The VVV token.
    function vvv() external view returns (IVVV);

    /// @notice The DIEM token.
    function diem() external view returns (IDiem);

    /// @notice Active sVVV of `account` (locked + unlocked; excludes cooling). Same as balanceOf.
    function stakedOf(address account) external view returns (uint256);

    /// @notice sVVV of `account` locked behind the DIEM it minted.
    function lockedOf(address account) external view returns (uint256);

    /// @notice Active sVVV of `account` that is not locked: what it can unstake, lock or transfer.
    function unlockedOf(address account) external view returns (uint256);

    /// @notice DIEM minted by `account` and not yet burned through burnDiem.
    function mintedOf(address account) external view returns (uint256);

    /// @notice The reward weight of `account`: unlocked + locked * lockedWeightBps / 10,000 (rounded down).
    function weightOf(address account) external view returns (uint256);

    /// @notice sVVV of `account` in cooldown, and when the cooldown ends.
    function coolingOf(address account) external view returns (uint256 amountWei, uint256 endsAt);

    /// @notice Σ stakedOf (= totalSupply).
    function totalStaked() external view returns (uint256);

    /// @notice Σ lockedOf.
    function totalLocked() external view returns (uint256);

    /// @notice Σ cooling.
    function totalCooling() external view returns (uint256);

    /// @notice Σ weightOf.
    function totalWeight() external view returns (uint256);

    /// @notice The reward accumulator (VVV wei per unit of weight, scaled by 1e18), as of now.
    function rewardPerTokenX18() external view returns (uint256);

    /// @notice The rate the owner set: VVV per 365 days before the ceiling applies (see effectiveAnnualEmissionWei).
    function annualEmissionWei() external view returns (uint256);

    /// @notice The emission ceiling at launch.
    function maxAnnualEmissionWei() external view returns (uint256);

    /// @notice The fraction the ceiling falls by per 365 days, in basis points.
    function emissionDecayBps() external view returns (uint256);

    /// @notice The largest move of one change, as a fraction of the ceiling, in basis points.
    function maxEmissionChangeBps() external view returns (uint256);

    /// @notice The timelock of a change.
    function emissionChangeDelaySeconds() external view returns (uint256);

    /// @notice The deployment time: the schedule's steps are 365 days from here.
    function emissionStartTimestamp() external view returns (uint256);

    /// @notice The end of the launch window (exclusive); equals emissionStartTimestamp when the guard is off.
    function launchWindowEndsAt() external view returns (uint256);

    /// @notice During the launch window, the most DIEM one address may mint in total.
    function launchMintCapWei() external view returns (uint256);

    /// @notice DIEM `account` minted during the launch window.
    function launchMintedOf(address account) external view returns (uint256);

    /// @notice The unstake cooldown.
    function cooldownSeconds() external view returns (uint256);

    /// @notice Reward weight of locked sVVV, in basis points.
    function lockedWeightBps() external view returns (uint256);

    /// @notice The mint curve parameters.
    function curve() external view returns (uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei);
}
