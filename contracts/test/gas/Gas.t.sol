// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Fixture} from "../utils/Fixture.sol";

/// @dev One user action per test, measured with snapshotGasLastCall. In isolation (FOUNDRY_PROFILE=gas) this is the
/// whole transaction's gas, including the 21,000 intrinsic gas and calldata. Every account starts with realistic state: VVV in its wallet, an existing
/// stake where the action needs one, and other holders already in the system, so storage writes are warm/cold as in
/// production. Run in isolation (each call its own transaction) with `FOUNDRY_PROFILE=gas`; results land in
/// contracts/snapshots/GasTest.json and GAS.md is written from them. The default and ci profiles skip this file.
contract GasTest is Fixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        deployAll();
        fund(alice, 5_000_000e18);
        fund(bob, 5_000_000e18);
        // Someone else is already staked and has minted, so totals are non-zero (no zero-to-nonzero writes on them).
        vm.startPrank(bob);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        diemStaking.stake(50e18);
        vm.stopPrank();
        skip(1 hours);
    }

    function test_gas_stake() public {
        vm.prank(alice);
        svvv.stake(1_000e18);
        vm.snapshotGasLastCall("sVVV stake (first)");
        skip(1 hours);
        vm.prank(alice);
        svvv.stake(1_000e18);
        vm.snapshotGasLastCall("sVVV stake (top-up)");
    }

    function test_gas_initiateUnstake() public {
        vm.prank(alice);
        svvv.stake(1_000e18);
        skip(1 hours);
        vm.prank(alice);
        svvv.initiateUnstake(400e18);
        vm.snapshotGasLastCall("sVVV initiateUnstake");
    }

    function test_gas_withdraw() public {
        vm.startPrank(alice);
        svvv.stake(1_000e18);
        svvv.initiateUnstake(400e18);
        skip(SVVV_COOLDOWN);
        svvv.withdraw();
        vm.snapshotGasLastCall("sVVV withdraw");
        vm.stopPrank();
    }

    function test_gas_claimRewards() public {
        vm.prank(alice);
        svvv.stake(1_000e18);
        skip(1 days);
        vm.prank(alice);
        svvv.claimRewards();
        vm.snapshotGasLastCall("sVVV claimRewards");
    }

    function test_gas_transfer() public {
        vm.prank(alice);
        svvv.stake(1_000e18);
        skip(1 hours);
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        svvv.transfer(bob, 400e18);
        vm.snapshotGasLastCall("sVVV transfer (to a staker)");
    }

    function test_gas_proposeAnnualEmission() public {
        vm.prank(owner);
        svvv.proposeAnnualEmission(ANNUAL_EMISSION_WEI + 1_000_000e18);
        vm.snapshotGasLastCall("sVVV proposeAnnualEmission");
    }

    function test_gas_applyAnnualEmission() public {
        vm.prank(owner);
        svvv.proposeAnnualEmission(ANNUAL_EMISSION_WEI + 1_000_000e18);
        skip(EMISSION_CHANGE_DELAY);
        svvv.applyAnnualEmission();
        vm.snapshotGasLastCall("sVVV applyAnnualEmission");
    }

    function test_gas_mintDiemSmall() public {
        vm.prank(alice);
        svvv.stake(1_000_000e18);
        vm.prank(alice);
        svvv.mintDiem(1e18, type(uint256).max);
        vm.snapshotGasLastCall("mintDiem 1 DIEM (1 cell)");
    }

    function test_gas_mintDiemLarge() public {
        vm.prank(alice);
        svvv.stake(1_000_000e18);
        vm.prank(alice);
        svvv.mintDiem(2_550e18, type(uint256).max);
        vm.snapshotGasLastCall("mintDiem 2,550 DIEM (256 cells, the maximum)");
    }

    function test_gas_burnDiem() public {
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        skip(1 hours);
        svvv.burnDiem(40e18);
        vm.snapshotGasLastCall("burnDiem (partial)");
        vm.stopPrank();
    }

    function test_gas_diemStake() public {
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        diemStaking.stake(50e18);
        vm.snapshotGasLastCall("DIEM stake (first)");
        diemStaking.stake(10e18);
        vm.snapshotGasLastCall("DIEM stake (same epoch)");
        skip(EPOCH);
        diemStaking.stake(10e18);
        vm.snapshotGasLastCall("DIEM stake (new epoch)");
        vm.stopPrank();
    }

    function test_gas_diemInitiateUnstake() public {
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        diemStaking.stake(50e18);
        skip(EPOCH);
        diemStaking.initiateUnstake(20e18);
        vm.snapshotGasLastCall("DIEM initiateUnstake");
        vm.stopPrank();
    }

    function test_gas_diemWithdraw() public {
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        diemStaking.stake(50e18);
        diemStaking.initiateUnstake(20e18);
        skip(EPOCH);
        diemStaking.withdraw();
        vm.snapshotGasLastCall("DIEM withdraw");
        vm.stopPrank();
    }

    function test_gas_allowanceOf() public {
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        for (uint256 i; i < 30; ++i) {
            diemStaking.stake(1e18);
            skip(EPOCH);
        }
        vm.stopPrank();
        uint256 epoch = diemStaking.currentEpoch();
        diemStaking.allowanceOf(alice, epoch);
        vm.snapshotGasLastCall("allowanceOf (current epoch, view)");
        diemStaking.allowanceOf(alice, epoch - 15);
        vm.snapshotGasLastCall("allowanceOf (15 epochs back of 30, view)");
    }

    function test_gas_setAllocation() public {
        address carol = makeAddr("carol");
        vm.startPrank(alice);
        svvv.stake(1_000_000e18);
        svvv.mintDiem(100e18, type(uint256).max);
        diemStaking.stake(50e18);
        // Another member already listed, as for a treasury with a team.
        diemStaking.setAllocation(bob, 5e18);
        skip(EPOCH);
        diemStaking.setAllocation(carol, 10e18);
        vm.snapshotGasLastCall("DIEM setAllocation (first, new member)");
        skip(EPOCH);
        diemStaking.setAllocation(carol, 20e18);
        vm.snapshotGasLastCall("DIEM setAllocation (change, new epoch)");
        diemStaking.setAllocation(carol, 15e18);
        vm.snapshotGasLastCall("DIEM setAllocation (change again, same epoch)");
        skip(EPOCH);
        diemStaking.setAllocation(carol, 0);
        vm.snapshotGasLastCall("DIEM setAllocation (revoke)");
        vm.stopPrank();
        diemStaking.allowanceOf(carol, diemStaking.currentEpoch());
        vm.snapshotGasLastCall("allowanceOf (member with an allocation, view)");
    }

    function test_gas_anchorSheet() public {
        uint256 next = priceRegistry.currentEpoch() + 1;
        // The URI the gateway serves a sheet at: its origin, the route and the 32-byte hash in hex.
        string memory uri = string.concat(
            "https://gateway.example.com/v1/prices/sheets/", vm.toString(keccak256("sheet for the next epoch"))
        );
        vm.prank(owner);
        priceRegistry.anchor(next, keccak256("sheet for the next epoch"), uri);
        vm.snapshotGasLastCall("PriceRegistry anchor (first anchor, next epoch)");
        skip(1 hours);
        vm.prank(owner);
        priceRegistry.anchor(next, keccak256("corrected sheet"), uri);
        vm.snapshotGasLastCall("PriceRegistry anchor (replace before the epoch)");
        vm.prank(owner);
        priceRegistry.anchor(next + 1, keccak256("sheet after that"), uri);
        vm.snapshotGasLastCall("PriceRegistry anchor (a later epoch)");
        priceRegistry.anchorOf(next);
        vm.snapshotGasLastCall("PriceRegistry anchorOf (view)");
    }
}
