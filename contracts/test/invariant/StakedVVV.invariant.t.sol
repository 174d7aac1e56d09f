// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Fixture} from "../utils/Fixture.sol";
import {VVV} from "../../src/VVV.sol";
import {Diem} from "../../src/Diem.sol";
import {StakedVVV} from "../../src/StakedVVV.sol";

/// @dev Drives StakedVVV with several actors: stake, unstake, withdraw, claim, mint and burn DIEM, move DIEM between
/// actors, and time moves. Ghosts: the VVV claimed as emissions.
contract StakedVVVHandler is Test {
    VVV public immutable vvv;
    Diem public immutable diem;
    StakedVVV public immutable svvv;
    address[] public actors;

    uint256 public ghostClaimedWei;
    uint256 public ghostMints;
    uint256 public ghostBurns;

    constructor(VVV vvv_, Diem diem_, StakedVVV svvv_, address[] memory actors_) {
        vvv = vvv_;
        diem = diem_;
        svvv = svvv_;
        actors = actors_;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function stake(uint256 actorSeed, uint256 amountWei) external {
        address actor = _actor(actorSeed);
        uint256 balanceWei = vvv.balanceOf(actor);
        if (balanceWei == 0) return;
        vm.prank(actor);
        svvv.stake(_amount(amountWei, balanceWei));
    }

    function initiateUnstake(uint256 actorSeed, uint256 amountWei) external {
        address actor = _actor(actorSeed);
        uint256 unlockedWei = svvv.unlockedOf(actor);
        if (unlockedWei == 0) return;
        vm.prank(actor);
        svvv.initiateUnstake(_amount(amountWei, unlockedWei));
    }

    function withdraw(uint256 actorSeed, bool jumpToEnd) external {
        address actor = _actor(actorSeed);
        (uint256 coolingWei, uint256 endsAt) = svvv.coolingOf(actor);
        if (coolingWei == 0) return;
        if (jumpToEnd && block.timestamp < endsAt) vm.warp(endsAt);
        if (block.timestamp < endsAt) return;
        vm.prank(actor);
        svvv.withdraw();
    }

    function claimRewards(uint256 actorSeed) external {
        vm.prank(_actor(actorSeed));
        ghostClaimedWei += svvv.claimRewards();
    }

    function mintDiem(uint256 actorSeed, uint256 diemWei) external {
        address actor = _actor(actorSeed);
        diemWei = bound(diemWei, 1, 500e18);
        if (svvv.quoteMint(diemWei) > svvv.unlockedOf(actor)) return;
        vm.prank(actor);
        svvv.mintDiem(diemWei, type(uint256).max);
        ++ghostMints;
    }

    function burnDiem(uint256 actorSeed, uint256 diemWei) external {
        address actor = _actor(actorSeed);
        uint256 mintedWei = svvv.mintedOf(actor);
        uint256 balanceWei = diem.balanceOf(actor);
        uint256 maxWei = mintedWei < balanceWei ? mintedWei : balanceWei;
        if (maxWei == 0) return;
        vm.prank(actor);
        svvv.burnDiem(_amount(diemWei, maxWei));
        ++ghostBurns;
    }

    function transferDiem(uint256 fromSeed, uint256 toSeed, uint256 amountWei) external {
        address from = _actor(fromSeed);
        uint256 balanceWei = diem.balanceOf(from);
        if (balanceWei == 0) return;
        vm.prank(from);
        assertTrue(diem.transfer(_actor(toSeed), _amount(amountWei, balanceWei)));
    }

    function warp(uint256 secondsAhead) external {
        skip(bound(secondsAhead, 0, 10 days));
    }

    function _amount(uint256 seed, uint256 maxWei) internal pure returns (uint256) {
        return seed % 2 == 0 ? maxWei : bound(seed, 1, maxWei);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }
}

contract StakedVVVInvariantTest is StdInvariant, Fixture {
    StakedVVVHandler internal handler;

    function setUp() public {
        deployAll();
        address[] memory actors = new address[](3);
        for (uint256 i; i < actors.length; ++i) {
            actors[i] = makeAddr(string.concat("actor", vm.toString(i)));
            fund(actors[i], 300_000e18);
        }
        handler = new StakedVVVHandler(vvv, diem, svvv, actors);
        targetContract(address(handler));
    }

    function invariant_stakesEqualTokenBalance() public view {
        uint256 stakedWei;
        uint256 coolingWei;
        uint256 lockedWei;
        uint256 weightWei;
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            stakedWei += svvv.stakedOf(actor);
            (uint256 c,) = svvv.coolingOf(actor);
            coolingWei += c;
            lockedWei += svvv.lockedOf(actor);
            weightWei += svvv.weightOf(actor);
            assertLe(svvv.lockedOf(actor), svvv.stakedOf(actor));
        }
        assertEq(stakedWei, svvv.totalStaked());
        assertEq(coolingWei, svvv.totalCooling());
        assertEq(lockedWei, svvv.totalLocked());
        assertEq(weightWei, svvv.totalWeight());
        assertEq(stakedWei + coolingWei, vvv.balanceOf(address(svvv)));
    }

    /// @dev Locked sVVV equals exactly what burning all DIEM of all minters would release.
    function invariant_lockedEqualsWhatBurningAllReleases() public view {
        uint256 releasableWei;
        uint256 mintedWei;
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            uint256 m = svvv.mintedOf(actor);
            mintedWei += m;
            if (m > 0) releasableWei += svvv.quoteBurn(actor, m);
            else assertEq(svvv.lockedOf(actor), 0);
        }
        assertEq(releasableWei, svvv.totalLocked());
        assertEq(mintedWei, diem.totalSupply());
    }

    /// @dev No emission beyond the schedule: claimed + claimable <= annualEmission * elapsed / year.
    function invariant_emissionsWithinSchedule() public view {
        uint256 emittedWei = vvv.totalSupply() - GENESIS_WEI;
        assertEq(emittedWei, handler.ghostClaimedWei());
        uint256 claimableWei;
        for (uint256 i; i < handler.actorCount(); ++i) {
            claimableWei += svvv.earned(handler.actors(i));
        }
        assertLe(emittedWei + claimableWei, ANNUAL_EMISSION_WEI * (block.timestamp - T0) / YEAR);
    }
}
