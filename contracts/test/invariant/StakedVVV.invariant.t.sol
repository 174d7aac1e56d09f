// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Fixture} from "../utils/Fixture.sol";
import {VVV} from "../../src/VVV.sol";
import {Diem} from "../../src/Diem.sol";
import {StakedVVV} from "../../src/StakedVVV.sol";

/// @dev Drives StakedVVV with several actors and its owner: stake, unstake, withdraw, claim, mint and burn DIEM, move
/// DIEM and sVVV between actors (transfer and transferFrom, including attempts to move locked or cooling sVVV), propose,
/// cancel and apply emission changes within their bounds (and attempts beyond them), and time moves across the
/// schedule's 365-day steps. All time moves through _warp, which integrates the schedule.
/// Ghosts: the VVV claimed; ∫ min(rate, ceiling(t)) dt over time with totalWeight > 0, per segment, with the rate and
/// the ceiling recomputed here; each actor's locked and cooling sVVV as only its own mint/burn and unstake/withdraw
/// may change them; and a count of calls that succeeded where they had to revert (or the reverse).
contract StakedVVVHandler is Test {
    uint256 internal constant YEAR = 365 days;

    VVV public immutable vvv;
    Diem public immutable diem;
    StakedVVV public immutable svvv;
    address public immutable owner;
    uint256 public immutable startTimestamp;
    uint256 public immutable launchCeilingWei;
    uint256 public immutable decayBps;
    uint256 public immutable changeBps;
    address[] public actors;

    uint256 public ghostClaimedWei;
    uint256 public ghostIntegralWeiSeconds;
    uint256 public ghostRateWei;
    uint256 public ghostViolations;
    string public ghostLastViolation;
    uint256 public ghostMints;
    uint256 public ghostBurns;
    uint256 public ghostTransfers;
    uint256 public ghostRateChanges;
    uint256 public ghostStepsCrossed;
    mapping(address actor => uint256) public ghostLockedWei;
    mapping(address actor => uint256) public ghostCoolingWei;

    constructor(VVV vvv_, Diem diem_, StakedVVV svvv_, address owner_, address[] memory actors_) {
        vvv = vvv_;
        diem = diem_;
        svvv = svvv_;
        owner = owner_;
        actors = actors_;
        startTimestamp = svvv_.emissionStartTimestamp();
        launchCeilingWei = svvv_.maxAnnualEmissionWei();
        decayBps = svvv_.emissionDecayBps();
        changeBps = svvv_.maxEmissionChangeBps();
        ghostRateWei = svvv_.annualEmissionWei();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    // ------------------------------------------------------------ holders

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
        amountWei = _amount(amountWei, unlockedWei);
        vm.prank(actor);
        svvv.initiateUnstake(amountWei);
        ghostCoolingWei[actor] += amountWei;
    }

    function withdraw(uint256 actorSeed, bool jumpToEnd) external {
        address actor = _actor(actorSeed);
        (uint256 coolingWei, uint256 endsAt) = svvv.coolingOf(actor);
        if (coolingWei == 0) return;
        if (jumpToEnd && block.timestamp < endsAt) _warp(endsAt - block.timestamp);
        if (block.timestamp < endsAt) return;
        vm.prank(actor);
        svvv.withdraw();
        ghostCoolingWei[actor] = 0;
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
        ghostLockedWei[actor] += svvv.mintDiem(diemWei, type(uint256).max);
        ++ghostMints;
    }

    function burnDiem(uint256 actorSeed, uint256 diemWei) external {
        address actor = _actor(actorSeed);
        uint256 mintedWei = svvv.mintedOf(actor);
        uint256 balanceWei = diem.balanceOf(actor);
        uint256 maxWei = mintedWei < balanceWei ? mintedWei : balanceWei;
        if (maxWei == 0) return;
        vm.prank(actor);
        ghostLockedWei[actor] -= svvv.burnDiem(_amount(diemWei, maxWei));
        ++ghostBurns;
    }

    function transferDiem(uint256 fromSeed, uint256 toSeed, uint256 amountWei) external {
        address from = _actor(fromSeed);
        uint256 balanceWei = diem.balanceOf(from);
        if (balanceWei == 0) return;
        vm.prank(from);
        assertTrue(diem.transfer(_actor(toSeed), _amount(amountWei, balanceWei)));
    }

    /// @dev Moves unlocked sVVV; one call in four tries to move more (locked or cooling sVVV), which must revert.
    function transferSvvv(uint256 fromSeed, uint256 toSeed, uint256 amountWei) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        uint256 unlockedWei = svvv.unlockedOf(from);
        if (amountWei % 4 == 1) {
            (uint256 coolingWei,) = svvv.coolingOf(from);
            uint256 extraWei = svvv.lockedOf(from) + coolingWei;
            if (extraWei == 0) return;
            vm.prank(from);
            try svvv.transfer(to, unlockedWei + bound(amountWei, 1, extraWei)) {
                _violation("moved locked or cooling sVVV");
            } catch {}
            return;
        }
        if (unlockedWei == 0) return;
        vm.prank(from);
        assertTrue(svvv.transfer(to, _amount(amountWei, unlockedWei)));
        ++ghostTransfers;
    }

    function transferSvvvFrom(uint256 fromSeed, uint256 spenderSeed, uint256 toSeed, uint256 amountWei) external {
        address from = _actor(fromSeed);
        address spender = _actor(spenderSeed);
        uint256 unlockedWei = svvv.unlockedOf(from);
        if (unlockedWei == 0) return;
        amountWei = _amount(amountWei, unlockedWei);
        vm.prank(from);
        svvv.approve(spender, amountWei);
        vm.prank(spender);
        assertTrue(svvv.transferFrom(from, _actor(toSeed), amountWei));
        if (svvv.allowance(from, spender) != 0) _violation("allowance not spent");
        ++ghostTransfers;
    }

    // ------------------------------------------------------------ owner

    /// @dev Proposes a rate within the bounds at the effective time; one call in five tries one just beyond them,
    /// which must revert.
    function proposeAnnualEmission(uint256 seed) external {
        (, uint256 pendingAt) = svvv.pendingAnnualEmission();
        if (pendingAt != 0) return;
        uint256 effectiveAt = block.timestamp + svvv.emissionChangeDelaySeconds();
        (uint256 lowWei, uint256 highWei,) = _bounds(effectiveAt);
        if (seed % 5 == 0) {
            // Above the ceiling, or beyond the per-change bound on either side.
            uint256 beyondWei = seed % 2 == 0 || lowWei == 0 ? highWei + 1 : lowWei - 1;
            vm.prank(owner);
            try svvv.proposeAnnualEmission(beyondWei) {
                _violation("accepted a proposal beyond the bounds");
            } catch {}
            return;
        }
        vm.prank(owner);
        svvv.proposeAnnualEmission(bound(seed, lowWei, highWei));
    }

    function cancelAnnualEmission() external {
        (, uint256 pendingAt) = svvv.pendingAnnualEmission();
        if (pendingAt == 0) return;
        vm.prank(owner);
        svvv.cancelAnnualEmission();
    }

    /// @dev Applies the pending change, optionally after waiting for it; it must revert before effectiveAt and when
    /// the bounds no longer hold, and succeed otherwise.
    function applyAnnualEmission(uint256 actorSeed, bool waitForIt) external {
        (uint256 pendingWei, uint256 effectiveAt) = svvv.pendingAnnualEmission();
        if (effectiveAt == 0) return;
        if (waitForIt && block.timestamp < effectiveAt) _warp(effectiveAt - block.timestamp);
        (uint256 lowWei, uint256 highWei,) = _bounds(block.timestamp);
        bool allowed = block.timestamp >= effectiveAt && pendingWei >= lowWei && pendingWei <= highWei;
        vm.prank(_actor(actorSeed));
        try svvv.applyAnnualEmission() {
            if (!allowed) _violation("applied a change too early or beyond the bounds");
            ghostRateWei = pendingWei;
            ++ghostRateChanges;
        } catch {
            if (allowed) _violation("refused a change within the bounds");
        }
    }

    // ------------------------------------------------------------ time

    /// @dev Mostly days, one call in three up to two years (crossing the schedule's steps).
    function warp(uint256 secondsAhead) external {
        _warp(bound(secondsAhead, 0, secondsAhead % 3 == 0 ? 2 * YEAR : 10 days));
    }

    /// @dev Moves time, adding ∫ min(rate, ceiling(t)) dt over the interval to the ghost if anything is staked.
    function _warp(uint256 secondsAhead) internal {
        uint256 fromTs = block.timestamp;
        uint256 toTs = fromTs + secondsAhead;
        bool staked = svvv.totalWeight() > 0;
        while (fromTs < toTs) {
            uint256 step = (fromTs - startTimestamp) / YEAR;
            uint256 endTs = Math.min(toTs, startTimestamp + (step + 1) * YEAR);
            if (staked) ghostIntegralWeiSeconds += Math.min(ghostRateWei, ceilingOfStep(step)) * (endTs - fromTs);
            if (endTs < toTs) ++ghostStepsCrossed;
            fromTs = endTs;
        }
        vm.warp(toTs);
    }

    /// @dev The schedule recomputed here: ceiling(0) = launch ceiling, ceiling(k) = floor(ceiling(k - 1) * keep / BPS).
    function ceilingOfStep(uint256 step) public view returns (uint256 ceilingWei) {
        ceilingWei = launchCeilingWei;
        for (uint256 i; i < step; ++i) {
            ceilingWei = ceilingWei * (10_000 - decayBps) / 10_000;
        }
    }

    /// @dev The rates a change applied at `atTimestamp` may set: within changeBps of the ceiling from the effective
    /// rate, and not above the ceiling.
    function _bounds(uint256 atTimestamp) internal view returns (uint256 lowWei, uint256 highWei, uint256 ceilingWei) {
        ceilingWei = ceilingOfStep((atTimestamp - startTimestamp) / YEAR);
        uint256 currentWei = Math.min(ghostRateWei, ceilingWei);
        uint256 maxChangeWei = ceilingWei * changeBps / 10_000;
        lowWei = currentWei > maxChangeWei ? currentWei - maxChangeWei : 0;
        highWei = Math.min(ceilingWei, currentWei + maxChangeWei);
    }

    function _violation(string memory what) internal {
        ++ghostViolations;
        ghostLastViolation = what;
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
        handler = new StakedVVVHandler(vvv, diem, svvv, owner, actors);
        targetContract(address(handler));
    }

    function invariant_stakesEqualTokenBalance() public view {
        uint256 stakedWei;
        uint256 balancesWei;
        uint256 coolingWei;
        uint256 lockedWei;
        uint256 weightWei;
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            stakedWei += svvv.stakedOf(actor);
            balancesWei += svvv.balanceOf(actor);
            (uint256 c,) = svvv.coolingOf(actor);
            coolingWei += c;
            lockedWei += svvv.lockedOf(actor);
            weightWei += svvv.weightOf(actor);
            assertLe(svvv.lockedOf(actor), svvv.stakedOf(actor));
        }
        assertEq(stakedWei, svvv.totalStaked());
        assertEq(balancesWei, svvv.totalSupply());
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

    /// @dev Locked and cooling sVVV never move: each actor's equals what its own mints/burns and unstakes/withdrawals
    /// left, whatever transfers happened.
    function invariant_lockedAndCoolingNeverMove() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            assertEq(svvv.lockedOf(actor), handler.ghostLockedWei(actor));
            (uint256 coolingWei,) = svvv.coolingOf(actor);
            assertEq(coolingWei, handler.ghostCoolingWei(actor));
        }
    }

    /// @dev No emission beyond the schedule: claimed + claimable <= ∫ min(rate, ceiling) dt / year over staked time,
    /// itself <= launch ceiling * elapsed / year.
    function invariant_emissionsWithinSchedule() public view {
        uint256 emittedWei = vvv.totalSupply() - GENESIS_WEI;
        assertEq(emittedWei, handler.ghostClaimedWei());
        uint256 claimableWei;
        for (uint256 i; i < handler.actorCount(); ++i) {
            claimableWei += svvv.earned(handler.actors(i));
        }
        assertLe(emittedWei + claimableWei, handler.ghostIntegralWeiSeconds() / YEAR);
        assertLe(handler.ghostIntegralWeiSeconds(), MAX_ANNUAL_EMISSION_WEI * (block.timestamp - T0));
    }

    /// @dev The rate is the last applied one, within the ceiling of its time; the ceiling is the schedule's.
    function invariant_rateWithinCeiling() public view {
        assertEq(svvv.annualEmissionWei(), handler.ghostRateWei());
        assertLe(svvv.annualEmissionWei(), MAX_ANNUAL_EMISSION_WEI);
        uint256 ceilingWei = handler.ceilingOfStep((block.timestamp - T0) / YEAR);
        assertEq(svvv.emissionCeilingWei(), ceilingWei);
        assertEq(svvv.effectiveAnnualEmissionWei(), Math.min(svvv.annualEmissionWei(), ceilingWei));
    }

    function afterInvariant() public view {
        console.log("mints", handler.ghostMints(), "burns", handler.ghostBurns());
        console.log("sVVV transfers", handler.ghostTransfers(), "rate changes", handler.ghostRateChanges());
        console.log("steps crossed", handler.ghostStepsCrossed(), "claimed wei", handler.ghostClaimedWei());
    }

    /// @dev No call succeeded that had to revert, nor the reverse (see the handler).
    function invariant_noBoundWasCrossed() public view {
        assertEq(handler.ghostViolations(), 0, handler.ghostLastViolation());
    }
}
