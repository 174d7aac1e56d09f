// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {VVV} from "../../src/VVV.sol";
import {Diem} from "../../src/Diem.sol";
import {StakedVVV} from "../../src/StakedVVV.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";
import {PriceRegistry} from "../../src/PriceRegistry.sol";
import {IStakedVVV} from "../../src/interfaces/IStakedVVV.sol";

/// @dev Deploys and wires the contracts exactly as the TypeScript deployer does, with the default parameters.
abstract contract Fixture is Test {
    /// @dev 2026-01-01T00:00:00Z, an epoch boundary.
    uint256 internal constant T0 = 1_767_225_600;
    uint256 internal constant GENESIS_WEI = 100_000_000e18;
    uint256 internal constant ANNUAL_EMISSION_WEI = 10_000_000e18;
    uint256 internal constant MAX_ANNUAL_EMISSION_WEI = 14_000_000e18;
    uint256 internal constant EMISSION_DECAY_BPS = 1_500;
    uint256 internal constant MAX_EMISSION_CHANGE_BPS = 2_000;
    uint256 internal constant EMISSION_CHANGE_DELAY = 2 days;
    uint256 internal constant SVVV_COOLDOWN = 7 days;
    uint256 internal constant LOCKED_WEIGHT_BPS = 8_000;
    uint256 internal constant EPOCH = 1 days;
    uint256 internal constant YEAR = 365 days;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    VVV internal vvv;
    Diem internal diem;
    StakedVVV internal svvv;
    DiemStaking internal diemStaking;
    PriceRegistry internal priceRegistry;

    function defaultConfig() internal pure returns (IStakedVVV.Config memory) {
        return IStakedVVV.Config({
            annualEmissionWei: ANNUAL_EMISSION_WEI,
            maxAnnualEmissionWei: MAX_ANNUAL_EMISSION_WEI,
            emissionDecayBps: EMISSION_DECAY_BPS,
            maxEmissionChangeBps: MAX_EMISSION_CHANGE_BPS,
            emissionChangeDelaySeconds: EMISSION_CHANGE_DELAY,
            cooldownSeconds: SVVV_COOLDOWN,
            lockedWeightBps: LOCKED_WEIGHT_BPS,
            baseWad: 90e18,
            powerWad: 2e18,
            targetWei: 38_000e18,
            maxSupplyWei: 100_000e18,
            launchWindowSeconds: 0,
            launchMintCapWei: 0
        });
    }

    function deployAll() internal {
        deployAllWith(defaultConfig());
    }

    /// @dev deployAll with another StakedVVV configuration.
    function deployAllWith(IStakedVVV.Config memory config) internal {
        vm.warp(T0);
        vm.startPrank(owner);
        vvv = new VVV(owner, treasury, GENESIS_WEI);
        diem = new Diem(owner);
        svvv = new StakedVVV(vvv, diem, owner, config);
        vvv.setEmissionsMinter(address(svvv));
        diem.setMinter(address(svvv));
        diemStaking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, 0.1e18);
        priceRegistry = new PriceRegistry(owner, diemStaking);
        vm.stopPrank();
    }

    /// @dev Gives `account` VVV from the treasury and approves both staking contracts.
    function fund(address account, uint256 amountWei) internal {
        vm.prank(treasury);
        assertTrue(vvv.transfer(account, amountWei));
        vm.startPrank(account);
        vvv.approve(address(svvv), type(uint256).max);
        diem.approve(address(diemStaking), type(uint256).max);
        vm.stopPrank();
    }
}
