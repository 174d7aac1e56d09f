// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IVVV} from "./IVVV.sol";
import {IDiem} from "./IDiem.sol";

/// @title IStakedVVV
/// @notice sVVV: the non-transferable staking receipt for VVV. Stakers earn VVV emissions and lock sVVV to mint DIEM.
/// @dev Balances of an account:
///   - staked: active sVVV, split into `locked` (backing DIEM the account minted) and `unlocked` (the rest);
///   - cooling: sVVV in its unstake cooldown; it earns nothing and counts for nothing, and is paid out by withdraw().
/// Emissions accrue per second at annualEmissionWei / 365 days, shared by weight: unlocked sVVV weighs 1, locked sVVV
/// weighs lockedWeightBps / 10,000. While the total weight is zero, the emissions of that time are not minted at all
/// (forfeited): nobody can claim them later.
interface IStakedVVV {
    /// @notice Deployment parameters.
    /// @param annualEmissionWei VVV minted per 365 days to stakers (default 10,000,000e18).
    /// @param cooldownSeconds Unstake cooldown (default 7 days).
    /// @param lockedWeightBps Reward weight of locked sVVV, in basis points (default 8,000 = 80%), at most 10,000.
    /// @param baseWad Mint curve rate at zero supply, sVVV per DIEM scaled by 1e18 (default 90e18).
    /// @param powerWad Mint curve exponent multiplier, scaled by 1e18 (default 2e18).
    /// @param targetWei Mint curve target supply, DIEM wei (default 38,000e18).
    /// @param maxSupplyWei DIEM supply cap, a multiple of 10 DIEM (default 100,000e18); see MintCurve.validate.
    struct Config {
        uint256 annualEmissionWei;
        uint256 cooldownSeconds;
        uint256 lockedWeightBps;
        uint256 baseWad;
        uint256 powerWad;
        uint256 targetWei;
        uint256 maxSupplyWei;
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
    /// @notice The owner changed the annual emission (emissions up to now were accrued at the old value).
    event AnnualEmissionSet(uint256 previousAnnualEmissionWei, uint256 annualEmissionWei);

    /// @notice A zero amount where a positive one is required.
    error StakedVVVZeroAmount();
    /// @notice A zero address where a contract is required.
    error StakedVVVZeroAddress();
    /// @notice `requestedWei` exceeds the caller's unlocked sVVV `unlockedWei`.
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

    // ---------------------------------------------------------------- staking

    /// @notice Stakes `amountWei` VVV from the caller (needs an allowance) and credits as much unlocked sVVV.
    function stake(uint256 amountWei) external;

    /// @notice Moves `amountWei` of the caller's unlocked sVVV into cooldown. Restarts the cooldown for everything
    /// already cooling. Cooling sVVV earns nothing and cannot be locked.
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

    /// @notice Sets the annual emission, after accruing everything up to now at the previous value. Owner only.
    function setAnnualEmission(uint256 annualEmissionWei) external;

    // ---------------------------------------------------------------- DIEM

    /// @notice Locks sVVV from the caller's unlocked stake and mints `diemAmountWei` DIEM to it. The sVVV locked is
    /// the integral of the mint curve over the supply interval (see MintCurve), rounded up.
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

    /// @notice Active sVVV of `account` (locked + unlocked; excludes cooling).
    function stakedOf(address account) external view returns (uint256);

    /// @notice sVVV of `account` locked behind the DIEM it minted.
    function lockedOf(address account) external view returns (uint256);

    /// @notice Active sVVV of `account` that is not locked.
    function unlockedOf(address account) external view returns (uint256);

    /// @notice DIEM minted by `account` and not yet burned through burnDiem.
    function mintedOf(address account) external view returns (uint256);

    /// @notice The reward weight of `account`: unlocked + locked * lockedWeightBps / 10,000 (rounded down).
    function weightOf(address account) external view returns (uint256);

    /// @notice sVVV of `account` in cooldown, and when the cooldown ends.
    function coolingOf(address account) external view returns (uint256 amountWei, uint256 endsAt);

    /// @notice Σ stakedOf.
    function totalStaked() external view returns (uint256);

    /// @notice Σ lockedOf.
    function totalLocked() external view returns (uint256);

    /// @notice Σ cooling.
    function totalCooling() external view returns (uint256);

    /// @notice Σ weightOf.
    function totalWeight() external view returns (uint256);

    /// @notice The reward accumulator (VVV wei per unit of weight, scaled by 1e18), as of now.
    function rewardPerTokenX18() external view returns (uint256);

    /// @notice VVV emitted per 365 days.
    function annualEmissionWei() external view returns (uint256);

    /// @notice The unstake cooldown.
    function cooldownSeconds() external view returns (uint256);

    /// @notice Reward weight of locked sVVV, in basis points.
    function lockedWeightBps() external view returns (uint256);

    /// @notice The mint curve parameters.
    function curve() external view returns (uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei);

    /// @notice "Staked VVV", for wallets.
    function name() external view returns (string memory);

    /// @notice "sVVV", for wallets.
    function symbol() external view returns (string memory);

    /// @notice 18.
    function decimals() external view returns (uint8);

    /// @notice Same as stakedOf: sVVV cannot be transferred, this is for display only.
    function balanceOf(address account) external view returns (uint256);

    /// @notice Same as totalStaked.
    function totalSupply() external view returns (uint256);
}
