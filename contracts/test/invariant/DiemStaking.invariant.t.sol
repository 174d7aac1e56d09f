// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";

/// @dev Drives DiemStaking with several actors: stake, initiateUnstake, withdraw, transfer, restake, mint, burn,
/// allocate, reallocate and revoke (between the actors) and time moves, in any interleaving, plus directed attacks on the cooldown (unstake again just before an earlier
/// cooldown ends; unstake at an epoch's first second and withdraw at its last). It is the DIEM minter, so supply can
/// grow and shrink. Withdrawals are always attempted, never pre-checked, so a cooldown the contract fails to enforce
/// shows up as a payout.
///
/// Ghosts, observed after every state change (and at the first moment of every epoch, including epochs a warp skips):
///   - per actor and epoch: the peak stake, the DIEM cooling at the epoch's start, the DIEM withdrawn in the epoch;
///   - per epoch: totalStaked and totalCooling at its start, DIEM staked and withdrawn during it, the highest supply;
///   - per actor: the time of its latest initiateUnstake, and counters of withdrawals that broke the cooldown rule;
///   - per delegator and member: the scheduled allocation (the latest set), and per actor and epoch the allocated
///     out and in totals, fixed from the schedule when the epoch opens (the rule under test, I8).
contract DiemStakingHandler is Test {
    /// @dev Amounts up to this land around the 0.1 DIEM allowance floor.
    uint256 internal constant DUST_WEI = 0.25e18;

    Diem public immutable diem;
    DiemStaking public immutable staking;
    uint256 public immutable epochSeconds;
    uint256 public immutable cooldownSeconds;
    address[] public actors;

    /// @dev Every epoch the run has been in, skipped ones included, in increasing order.
    uint256[] public touchedEpochs;
    uint256 public lastEpoch;
    /// @dev Index in touchedEpochs of the epoch the latest call started in: only it and later ones can have changed.
    uint256 public callStartIndex;

    mapping(uint256 epoch => uint256 wei_) public maxSupplyWei;
    mapping(uint256 epoch => uint256 wei_) public stakedAtStartWei;
    mapping(uint256 epoch => uint256 wei_) public coolingAtStartWei;
    mapping(uint256 epoch => uint256 wei_) public stakedDuringWei;
    mapping(uint256 epoch => uint256 wei_) public withdrawnDuringWei;

    mapping(address actor => mapping(uint256 epoch => uint256 wei_)) public peakWei;
    mapping(address actor => mapping(uint256 epoch => uint256 wei_)) public coolingAtStartOfWei;
    mapping(address actor => mapping(uint256 epoch => uint256 wei_)) public withdrawnOfWei;
    mapping(address actor => uint256 timestamp) public lastUnstakeAt;

    /// @dev Violations of the cooldown rule; each must stay 0. A withdrawal that succeeds...
    ///   ...in the epoch of its account's latest initiateUnstake:
    uint256 public withdrawalsInUnstakeEpoch;
    ///   ...of more (summed over the epoch) than its account had cooling at the epoch's start:
    uint256 public withdrawalsAboveStartCooling;
    ///   ...before a full cooldown has passed since its account's latest initiateUnstake:
    uint256 public withdrawalsBeforeCooldown;

    mapping(address delegator => mapping(address member => uint256 wei_)) public scheduledWei;
    mapping(address actor => mapping(uint256 epoch => uint256 wei_)) public outOfWei;
    mapping(address actor => mapping(uint256 epoch => uint256 wei_)) public inOfWei;

    /// @dev Violations of the allocation rule; each must stay 0: a setAllocation above the stake that succeeded, an
    /// initiateUnstake below what is allocated out that succeeded, a lawful setAllocation that was refused.
    uint256 public allocationsAboveStake;
    uint256 public unstakesBelowAllocated;
    uint256 public lawfulAllocationsRefused;

    uint256 public ghostAllocations;
    uint256 public ghostStakeCalls;
    uint256 public ghostWithdrawCalls;
    uint256 public ghostRefusedWithdrawals;
    uint256 public ghostTransfers;

    constructor(Diem diem_, DiemStaking staking_, uint256 actorCount_) {
        diem = diem_;
        staking = staking_;
        epochSeconds = staking_.epochSeconds();
        cooldownSeconds = staking_.cooldownSeconds();
        for (uint256 i; i < actorCount_; ++i) {
            address actor = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(actor);
            vm.prank(actor);
            diem.approve(address(staking), type(uint256).max);
        }
        lastEpoch = block.timestamp / epochSeconds;
        _openEpoch(lastEpoch);
        _observe();
    }

    modifier observed() {
        _observe();
        callStartIndex = touchedEpochs.length - 1;
        _;
        _observe();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function touchedEpochCount() external view returns (uint256) {
        return touchedEpochs.length;
    }

    /// @dev DIEM the staking contract held at the end of `epoch` (now, for the current epoch).
    function heldAtEndWei(uint256 epoch) external view returns (uint256) {
        return stakedAtStartWei[epoch] + coolingAtStartWei[epoch] + stakedDuringWei[epoch] - withdrawnDuringWei[epoch];
    }

    /// @dev Σ coolingAtStartOf over the actors that withdrew in `epoch`: the part of the epoch's starting cooling that
    /// may lawfully leave during it. The rest sat untouched through the epoch and backed nothing.
    function releasedCoolingWei(uint256 epoch) external view returns (uint256 sumWei) {
        for (uint256 i; i < actors.length; ++i) {
            if (withdrawnOfWei[actors[i]][epoch] != 0) sumWei += coolingAtStartOfWei[actors[i]][epoch];
        }
    }

    // ------------------------------------------------------------ actions

    function mint(uint256 actorSeed, uint256 amountWei) external observed {
        diem.mint(_actor(actorSeed), bound(amountWei, 1, 1_000e18));
    }

    function burn(uint256 actorSeed, uint256 amountSeed) external observed {
        address actor = _actor(actorSeed);
        uint256 balanceWei = diem.balanceOf(actor);
        if (balanceWei == 0) return;
        diem.burn(actor, _amount(amountSeed, balanceWei));
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external observed {
        address from = _actor(fromSeed);
        uint256 balanceWei = diem.balanceOf(from);
        if (balanceWei == 0) return;
        _transfer(from, _actor(toSeed), _amount(amountSeed, balanceWei));
    }

    /// @dev Also the "restake" step: DIEM withdrawn or received by transfer goes back in here.
    function stake(uint256 actorSeed, uint256 amountSeed) external observed {
        address actor = _actor(actorSeed);
        uint256 balanceWei = diem.balanceOf(actor);
        if (balanceWei == 0) return;
        _stake(actor, _amount(amountSeed, balanceWei));
    }

    function initiateUnstake(uint256 actorSeed, uint256 amountSeed) external observed {
        address actor = _actor(actorSeed);
        uint256 stakedWei = staking.stakedOf(actor);
        if (stakedWei == 0) return;
        _unstake(actor, _amount(amountSeed, stakedWei));
    }

    /// @dev Attempts a withdrawal now, at the last second before the cooldown ends, or at its end (`when` % 3).
    function withdraw(uint256 actorSeed, uint256 when) external observed {
        address actor = _actor(actorSeed);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(actor);
        if (coolingWei == 0) return;
        if (when % 3 == 1 && endsAt - 1 > block.timestamp) _warpTo(endsAt - 1);
        if (when % 3 == 2 && endsAt > block.timestamp) _warpTo(endsAt);
        _tryWithdraw(actor);
    }

    /// @dev The move the allowance rule exists for, done lawfully: unstake, wait out the cooldown (jumping straight to
    /// its end), withdraw, hand the DIEM to another actor and restake it there.
    function unstakeTransferRestake(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external observed {
        address from = _actor(fromSeed);
        uint256 stakedWei = staking.stakedOf(from);
        if (stakedWei != 0) _unstake(from, _amount(amountSeed, stakedWei));
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(from);
        if (coolingWei == 0) return;
        if (block.timestamp < endsAt) _warpTo(endsAt);
        _moveAndRestake(from, _actor(toSeed), _tryWithdraw(from));
    }

    /// @dev Directed at the cooldown restart: with DIEM already cooling, unstake more shortly before that cooldown
    /// ends, then try to withdraw at once and again at the old end. Whatever comes out moves to another actor and is
    /// restaked, so an early payout shows as a double count in the epoch, not only as a broken ghost rule.
    function unstakeAgainBeforeCooldownEnds(uint256 actorSeed, uint256 toSeed, uint256 amountSeed, uint256 leadSeed)
        external
        observed
    {
        address actor = _actor(actorSeed);
        address to = _actor(toSeed);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(actor);
        if (coolingWei == 0) {
            _ensureStake(actor, amountSeed);
            _unstake(actor, _amount(amountSeed, staking.stakedOf(actor)));
            (, endsAt) = staking.coolingOf(actor);
        }
        uint256 leadSeconds = bound(leadSeed, 1, epochSeconds / 2);
        if (endsAt > block.timestamp + leadSeconds) _warpTo(endsAt - leadSeconds);
        _ensureStake(actor, amountSeed >> 128);
        _unstake(actor, _amount(amountSeed >> 128, staking.stakedOf(actor)));
        _moveAndRestake(actor, to, _tryWithdraw(actor));
        if (block.timestamp < endsAt) _warpTo(endsAt);
        _moveAndRestake(actor, to, _tryWithdraw(actor));
    }

    /// @dev Directed at the cooldown's last second: unstake at an epoch's first second (with a one-epoch cooldown it
    /// then ends exactly at the next epoch's start), try to withdraw in the epoch's last second and restake elsewhere;
    /// with `finish`, withdraw lawfully at the end and restake in the new epoch.
    function unstakeAtEpochStartThenRaceTheEnd(uint256 actorSeed, uint256 toSeed, uint256 amountSeed, bool finish)
        external
        observed
    {
        _warpTo((block.timestamp / epochSeconds + 1) * epochSeconds);
        address actor = _actor(actorSeed);
        address to = _actor(toSeed);
        _ensureStake(actor, amountSeed);
        _unstake(actor, _amount(amountSeed, staking.stakedOf(actor)));
        // Nothing unstaked now (all of it allocated): an older cooldown may have ended already.
        (, uint256 endsAt) = staking.coolingOf(actor);
        if (endsAt <= block.timestamp) return;
        _warpTo(endsAt - 1);
        _moveAndRestake(actor, to, _tryWithdraw(actor));
        if (!finish) return;
        _warpTo(endsAt);
        _moveAndRestake(actor, to, _tryWithdraw(actor));
    }

    /// @dev Allocates (or reallocates) to another actor an amount the delegator's stake covers, at least the minimum.
    function allocate(uint256 delegatorSeed, uint256 memberSeed, uint256 amountSeed) external observed {
        (address delegator, address member) = _pair(delegatorSeed, memberSeed);
        uint256 roomWei = staking.stakedOf(delegator) - scheduledOutWei(delegator) + scheduledWei[delegator][member];
        uint256 minWei = staking.minAllowanceWei();
        if (roomWei < minWei) return;
        uint256 amountWei = minWei + _amount(amountSeed, roomWei - minWei + 1) - 1;
        if (amountWei == scheduledWei[delegator][member]) return;
        _setAllocation(delegator, member, amountWei);
    }

    function revoke(uint256 delegatorSeed, uint256 memberSeed) external observed {
        (address delegator, address member) = _pair(delegatorSeed, memberSeed);
        if (scheduledWei[delegator][member] == 0) return;
        _setAllocation(delegator, member, 0);
    }

    /// @dev Tries to allocate beyond the stake; a success is a violation (and then the ghost follows the contract).
    function overAllocate(uint256 delegatorSeed, uint256 memberSeed, uint256 excessSeed) external observed {
        (address delegator, address member) = _pair(delegatorSeed, memberSeed);
        uint256 roomWei = staking.stakedOf(delegator) - scheduledOutWei(delegator) + scheduledWei[delegator][member];
        uint256 amountWei = roomWei + bound(excessSeed, 1, 10e18);
        if (amountWei < staking.minAllowanceWei()) amountWei = staking.minAllowanceWei();
        vm.prank(delegator);
        try staking.setAllocation(member, amountWei) {
            ++allocationsAboveStake;
            scheduledWei[delegator][member] = amountWei;
        } catch {}
        _observe();
    }

    /// @dev Tries to unstake into what is allocated out; a success is a violation.
    function unstakeAllocated(uint256 actorSeed, uint256 excessSeed) external observed {
        address actor = _actor(actorSeed);
        uint256 outWei = scheduledOutWei(actor);
        if (outWei == 0) return;
        uint256 amountWei = staking.stakedOf(actor) - outWei + bound(excessSeed, 1, outWei);
        vm.prank(actor);
        try staking.initiateUnstake(amountWei) {
            ++unstakesBelowAllocated;
            lastUnstakeAt[actor] = block.timestamp;
        } catch {}
        _observe();
    }

    /// @dev The allocation version of the double-count attempt, all in one epoch where the rule allows it: allocate
    /// the whole free stake to a member, revoke it, unstake everything, then (after the cooldown) move the DIEM to
    /// another actor, restake it there and allocate it to the same member.
    function allocateRevokeUnstakeRestake(uint256 fromSeed, uint256 toSeed, uint256 memberSeed) external observed {
        (address from, address member) = _pair(fromSeed, memberSeed);
        uint256 roomWei = staking.stakedOf(from) - scheduledOutWei(from) + scheduledWei[from][member];
        if (roomWei >= staking.minAllowanceWei() && roomWei != scheduledWei[from][member]) {
            _setAllocation(from, member, roomWei);
        }
        for (uint256 i; i < actors.length; ++i) {
            if (scheduledWei[from][actors[i]] != 0) _setAllocation(from, actors[i], 0);
        }
        _unstake(from, staking.stakedOf(from));
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(from);
        if (coolingWei == 0) return;
        if (block.timestamp < endsAt) _warpTo(endsAt);
        address to = _actor(toSeed);
        uint256 movedWei = _tryWithdraw(from);
        _moveAndRestake(from, to, movedWei);
        if (to != member && movedWei >= staking.minAllowanceWei()) {
            uint256 amountWei = staking.stakedOf(to) - scheduledOutWei(to) + scheduledWei[to][member];
            if (amountWei != scheduledWei[to][member]) _setAllocation(to, member, amountWei);
        }
    }

    function warp(uint256 secondsAhead) external observed {
        _warpTo(block.timestamp + bound(secondsAhead, 0, 2 * epochSeconds));
    }

    /// @dev Lands on the last second of the epoch or the first of the next one, where off-by-one bugs live.
    function warpToEpochEdge(bool lastSecond) external observed {
        uint256 nextStart = (block.timestamp / epochSeconds + 1) * epochSeconds;
        _warpTo(lastSecond ? nextStart - 1 : nextStart);
    }

    // ------------------------------------------------------------ steps (each keeps the ghosts)

    function _stake(address actor, uint256 amountWei) internal {
        vm.prank(actor);
        staking.stake(amountWei);
        stakedDuringWei[block.timestamp / epochSeconds] += amountWei;
        ++ghostStakeCalls;
        _observe();
    }

    /// @dev Unstakes at most what the actor's allocations leave free (the rest is tried by unstakeAllocated).
    function _unstake(address actor, uint256 amountWei) internal {
        uint256 freeWei = staking.stakedOf(actor) - scheduledOutWei(actor);
        if (amountWei > freeWei) amountWei = freeWei;
        if (amountWei == 0) return;
        vm.prank(actor);
        staking.initiateUnstake(amountWei);
        lastUnstakeAt[actor] = block.timestamp;
        _observe();
    }

    /// @return amountWei What the withdrawal paid, 0 when the contract refused it.
    function _tryWithdraw(address actor) internal returns (uint256 amountWei) {
        vm.prank(actor);
        try staking.withdraw() returns (uint256 paidWei) {
            amountWei = paidWei;
        } catch {
            ++ghostRefusedWithdrawals;
            return 0;
        }
        uint256 epoch = block.timestamp / epochSeconds;
        withdrawnDuringWei[epoch] += amountWei;
        withdrawnOfWei[actor][epoch] += amountWei;
        uint256 unstakedAt = lastUnstakeAt[actor];
        if (unstakedAt / epochSeconds == epoch) ++withdrawalsInUnstakeEpoch;
        if (withdrawnOfWei[actor][epoch] > coolingAtStartOfWei[actor][epoch]) ++withdrawalsAboveStartCooling;
        if (block.timestamp < unstakedAt + cooldownSeconds) ++withdrawalsBeforeCooldown;
        ++ghostWithdrawCalls;
        _observe();
    }

    function _transfer(address from, address to, uint256 amountWei) internal {
        vm.prank(from);
        assertTrue(diem.transfer(to, amountWei));
        ++ghostTransfers;
    }

    function _moveAndRestake(address from, address to, uint256 amountWei) internal {
        if (amountWei == 0) return;
        if (to != from) _transfer(from, to, amountWei);
        _stake(to, amountWei);
    }

    /// @dev Gives `actor` a stake if it has none, minting DIEM if it holds none either.
    function _ensureStake(address actor, uint256 seed) internal {
        if (staking.stakedOf(actor) != 0) return;
        if (diem.balanceOf(actor) == 0) diem.mint(actor, bound(seed, 1, 1_000e18));
        _stake(actor, _amount(seed, diem.balanceOf(actor)));
    }

    function _setAllocation(address delegator, address member, uint256 amountWei) internal {
        vm.prank(delegator);
        try staking.setAllocation(member, amountWei) {
            scheduledWei[delegator][member] = amountWei;
            ++ghostAllocations;
        } catch {
            ++lawfulAllocationsRefused;
        }
        _observe();
    }

    /// @dev Σ of what `delegator` has scheduled out (takes effect at the next epoch).
    function scheduledOutWei(address delegator) public view returns (uint256 sumWei) {
        for (uint256 i; i < actors.length; ++i) {
            sumWei += scheduledWei[delegator][actors[i]];
        }
    }

    /// @dev Σ of what is scheduled to `member`.
    function scheduledInWei(address member) public view returns (uint256 sumWei) {
        for (uint256 i; i < actors.length; ++i) {
            sumWei += scheduledWei[actors[i]][member];
        }
    }

    /// @dev Time never moves back (the ghost's epochs are in increasing order).
    function _warpTo(uint256 timestamp) internal {
        if (timestamp < block.timestamp) return;
        vm.warp(timestamp);
        _observe();
    }

    // ------------------------------------------------------------ ghost

    /// @dev Opens every epoch entered since the last observation (nothing changed while time moved, so each starts
    /// with the current state), then raises the current epoch's peaks and supply high-water mark.
    function _observe() internal {
        uint256 epoch = block.timestamp / epochSeconds;
        for (uint256 e = lastEpoch + 1; e <= epoch; ++e) {
            _openEpoch(e);
        }
        lastEpoch = epoch;
        uint256 supplyWei = diem.totalSupply();
        if (supplyWei > maxSupplyWei[epoch]) maxSupplyWei[epoch] = supplyWei;
        for (uint256 i; i < actors.length; ++i) {
            uint256 stakedWei = staking.stakedOf(actors[i]);
            if (stakedWei > peakWei[actors[i]][epoch]) peakWei[actors[i]][epoch] = stakedWei;
        }
    }

    function _openEpoch(uint256 epoch) internal {
        touchedEpochs.push(epoch);
        stakedAtStartWei[epoch] = staking.totalStaked();
        coolingAtStartWei[epoch] = staking.totalCooling();
        maxSupplyWei[epoch] = diem.totalSupply();
        for (uint256 i; i < actors.length; ++i) {
            address actor = actors[i];
            peakWei[actor][epoch] = staking.stakedOf(actor);
            (coolingAtStartOfWei[actor][epoch],) = staking.coolingOf(actor);
            // The rule: the allocations in force in `epoch` are the ones scheduled when it starts.
            outOfWei[actor][epoch] = scheduledOutWei(actor);
            inOfWei[actor][epoch] = scheduledInWei(actor);
        }
    }

    /// @dev A quarter of the time the whole amount (moving everything stresses the per-epoch bound), a quarter of the
    /// time dust around the 0.1 DIEM floor, otherwise anything.
    function _amount(uint256 seed, uint256 maxWei) internal pure returns (uint256) {
        uint256 mode = seed % 4;
        if (mode == 0) return maxWei;
        if (mode == 1) return bound(seed, 1, maxWei < DUST_WEI ? maxWei : DUST_WEI);
        return bound(seed, 1, maxWei);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    /// @dev Two different actors: a delegator and a member.
    function _pair(uint256 delegatorSeed, uint256 memberSeed) internal view returns (address, address) {
        uint256 d = delegatorSeed % actors.length;
        uint256 m = (d + 1 + memberSeed % (actors.length - 1)) % actors.length;
        return (actors[d], actors[m]);
    }
}

/// @dev The backing bound, and why it holds for a correct contract (DiemStaking header I3/I4). With cooldownSeconds >=
/// epochSeconds, a withdrawal at time t in epoch e needs t >= (its account's latest unstake) + cooldownSeconds, so
/// every unstake of that account lies before e's start and none in e before t: the withdrawal pays exactly the
/// account's cooling at e's start, and at most once per epoch. So withdrawnDuring(e) = releasedCooling(e), the starting
/// cooling of the actors that withdrew in e, and every DIEM that counted in e (staked at its start or staked during it)
/// is still in the contract when e ends. As a peak only rises through stakes,
///   Σ_a allowanceOf(a, e) + withdrawnDuring(e) <= stakedAtStart(e) + stakedDuring(e) + releasedCooling(e).   (tight)
/// A withdrawal that takes DIEM which counted in e (more than its account had cooling at e's start) breaks it by that
/// excess, even when the DIEM is never restaked. The looser form the suite also reports,
///   Σ_a allowanceOf(a, e) + withdrawnDuring(e) <= stakedAtStart(e) + coolingAtStart(e) + stakedDuring(e),
/// i.e. "allowances <= DIEM held at the end of e", counts the cooling that sat untouched through e as backing: that
/// slack lets one account's early withdrawal hide behind another account's idle cooling.
contract DiemStakingInvariantTest is StdInvariant, Test {
    /// @dev Short epochs so that a run crosses many of them; the cooldown is exactly one epoch, the tightest allowed.
    uint256 internal constant EPOCH = 3_600;

    Diem internal diem;
    DiemStaking internal staking;
    DiemStakingHandler internal handler;

    function setUp() public {
        vm.warp(1_767_225_600);
        diem = new Diem(address(this));
        staking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, 0.1e18);
        handler = new DiemStakingHandler(diem, staking, 3);
        diem.setMinter(address(handler));
        handler.mint(0, 1_000e18);
        targetContract(address(handler));
    }

    /// @dev Every check of the suite, after every call (over the epochs the call touched, the only ones it can change)
    /// and again over every epoch at the end of each run (so a past epoch that moved is caught too). All checks run
    /// in one invariant on purpose: forge 1.7 runs one campaign per invariant function, with the same seed and so the
    /// same call sequences, so splitting them would multiply the runtime without exploring anything new. A failure
    /// names every check that broke, with its figures.
    function invariant_oneDiemBacksAtMostOneDollarPerEpoch() public view {
        _assertAllHold(handler.callStartIndex());
    }

    function afterInvariant() public view {
        _assertAllHold(0);
    }

    function _assertAllHold(uint256 fromIndex) internal view {
        // Broken totals make every figure below meaningless (and may overflow the sums): report them alone.
        string memory broken = _checkTotals();
        assertTrue(bytes(broken).length == 0, broken);
        broken = string.concat(
            _checkCooldownRule(),
            _checkAllocationRule(fromIndex),
            _checkAllowancesAreGhostPeaks(fromIndex),
            _checkCurrentAllowanceCoversCurrentStake(),
            _checkAllowancesBacked(fromIndex),
            _checkAllowancesWithinSupply(fromIndex)
        );
        assertTrue(bytes(broken).length == 0, broken);
    }

    // ------------------------------------------------------------ checks: each returns "" or what broke

    /// @dev Totals match the accounts and the token balance, and the ghost's flows match the balance too (so the
    /// bounds below are computed from true figures).
    function _checkTotals() internal view returns (string memory) {
        uint256 actors = handler.actorCount();
        uint256 stakedWei;
        uint256 coolingWei;
        for (uint256 j; j < actors; ++j) {
            stakedWei += staking.stakedOf(handler.actors(j));
            (uint256 c,) = staking.coolingOf(handler.actors(j));
            coolingWei += c;
        }
        uint256 balanceWei = diem.balanceOf(address(staking));
        if (stakedWei != staking.totalStaked() || coolingWei != staking.totalCooling()) {
            return _broken("totals != sum over accounts", stakedWei, staking.totalStaked());
        }
        if (stakedWei + coolingWei != balanceWei) {
            return _broken("staked + cooling != DIEM balance", stakedWei + coolingWei, balanceWei);
        }
        uint256 ghostWei = handler.heldAtEndWei(staking.currentEpoch());
        if (ghostWei != balanceWei) return _broken("ghost flows != DIEM balance", ghostWei, balanceWei);
        return "";
    }

    /// @dev The mechanism the backing bound rests on: no withdrawal before a full cooldown, none in the epoch of its
    /// account's latest unstake, none of more than the account had cooling at the epoch's start.
    function _checkCooldownRule() internal view returns (string memory) {
        return string.concat(
            _brokenIfNonZero("withdrawn before a full cooldown", handler.withdrawalsBeforeCooldown()),
            _brokenIfNonZero("withdrawn in the epoch of its unstake", handler.withdrawalsInUnstakeEpoch()),
            _brokenIfNonZero(
                "withdrawn more than was cooling at the epoch's start", handler.withdrawalsAboveStartCooling()
            )
        );
    }

    /// @dev I8: no allocation above the stake and no unstake into allocations got through, no lawful allocation was
    /// refused; every epoch's out and in totals are the ghost's (fixed when the epoch opened), Σ out = Σ in, every
    /// peak covers what its account allocated out, and every stake covers what is scheduled out.
    function _checkAllocationRule(uint256 fromIndex) internal view returns (string memory) {
        string memory broken = string.concat(
            _brokenIfNonZero("allocation above the stake accepted", handler.allocationsAboveStake()),
            _brokenIfNonZero("unstake below the allocated accepted", handler.unstakesBelowAllocated()),
            _brokenIfNonZero("lawful allocation refused", handler.lawfulAllocationsRefused())
        );
        if (bytes(broken).length != 0) return broken;
        uint256 epochs = handler.touchedEpochCount();
        uint256 actors = handler.actorCount();
        for (uint256 i = fromIndex; i < epochs; ++i) {
            uint256 epoch = handler.touchedEpochs(i);
            uint256 sumOutWei;
            uint256 sumInWei;
            for (uint256 j; j < actors; ++j) {
                address actor = handler.actors(j);
                uint256 outWei = staking.allocatedOutOf(actor, epoch);
                uint256 inWei = staking.allocatedInOf(actor, epoch);
                if (outWei != handler.outOfWei(actor, epoch)) {
                    return _broken("allocatedOutOf != ghost", outWei, handler.outOfWei(actor, epoch));
                }
                if (inWei != handler.inOfWei(actor, epoch)) {
                    return _broken("allocatedInOf != ghost", inWei, handler.inOfWei(actor, epoch));
                }
                uint256 peakWei = handler.peakWei(actor, epoch);
                if (outWei > peakWei) return _broken("allocated out above the epoch's peak", outWei, peakWei);
                sumOutWei += outWei;
                sumInWei += inWei;
            }
            if (sumOutWei != sumInWei) return _broken("sum of out != sum of in", sumOutWei, sumInWei);
        }
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            uint256 scheduledWei = staking.allocatedOutOf(actor, staking.currentEpoch() + 1);
            if (scheduledWei != handler.scheduledOutWei(actor)) {
                return _broken("scheduled out != ghost", scheduledWei, handler.scheduledOutWei(actor));
            }
            if (scheduledWei > staking.stakedOf(actor)) {
                return _broken("scheduled out above the stake", scheduledWei, staking.stakedOf(actor));
            }
        }
        return "";
    }

    /// @dev Every epoch's allowance is exactly the rule's figure from the ghost (peak stake minus out plus in, floored
    /// at the minimum), the next epoch's is 0 (not granted yet), and nextEpochAllowanceOf is the same figure from the
    /// current stake and the scheduled allocations.
    function _checkAllowancesAreGhostPeaks(uint256 fromIndex) internal view returns (string memory) {
        uint256 epochs = handler.touchedEpochCount();
        uint256 actors = handler.actorCount();
        uint256 current = staking.currentEpoch();
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            for (uint256 i = fromIndex; i < epochs; ++i) {
                uint256 epoch = handler.touchedEpochs(i);
                uint256 allowanceWei = staking.allowanceOf(actor, epoch);
                uint256 ruleWei = _rule(handler.peakWei(actor, epoch), handler.outOfWei(actor, epoch), handler.inOfWei(actor, epoch));
                if (allowanceWei != ruleWei) return _broken("allowanceOf != ghost rule", allowanceWei, ruleWei);
            }
            uint256 futureWei = staking.allowanceOf(actor, current + 1);
            if (futureWei != 0) return _broken("allowanceOf stated for an epoch not reached", futureWei, 0);
            uint256 projectedWei = staking.nextEpochAllowanceOf(actor);
            uint256 expectedWei =
                _rule(staking.stakedOf(actor), handler.scheduledOutWei(actor), handler.scheduledInWei(actor));
            if (projectedWei != expectedWei) {
                return _broken("nextEpochAllowanceOf != rule on the stake", projectedWei, expectedWei);
            }
        }
        return "";
    }

    /// @dev The current epoch's allowance is never below the rule's figure on the current stake (a stake counts at
    /// once).
    function _checkCurrentAllowanceCoversCurrentStake() internal view returns (string memory) {
        uint256 actors = handler.actorCount();
        uint256 epoch = staking.currentEpoch();
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            uint256 stakedWei = _rule(staking.stakedOf(actor), staking.allocatedOutOf(actor, epoch), staking.allocatedInOf(actor, epoch));
            uint256 allowanceWei = staking.allowanceOf(actor, epoch);
            if (allowanceWei < stakedWei) {
                return _broken("current allowance below the current stake's", allowanceWei, stakedWei);
            }
        }
        return "";
    }

    /// @dev The core economic invariant, in its tight form (see the contract comment). Compared as sums, so that a
    /// broken contract fails a check, not an underflow.
    function _checkAllowancesBacked(uint256 fromIndex) internal view returns (string memory) {
        uint256 epochs = handler.touchedEpochCount();
        for (uint256 i = fromIndex; i < epochs; ++i) {
            uint256 epoch = handler.touchedEpochs(i);
            uint256 usedWei = _sumOfAllowances(epoch) + handler.withdrawnDuringWei(epoch);
            uint256 inWei = handler.stakedAtStartWei(epoch) + handler.stakedDuringWei(epoch);
            uint256 backedWei = inWei + handler.releasedCoolingWei(epoch);
            if (usedWei <= backedWei) continue;
            // The tight bound broke; say whether the looser one (which counts untouched cooling as backing) did too.
            uint256 heldWei = inWei + handler.coolingAtStartWei(epoch);
            return string.concat(
                _broken(
                    "allowances + withdrawn exceed DIEM staked at the start or during the epoch + released cooling",
                    usedWei,
                    backedWei
                ),
                usedWei > heldWei
                    ? _broken(
                        "allowances + withdrawn exceed DIEM held at the epoch's end + withdrawn", usedWei, heldWei
                    )
                    : ""
            );
        }
        return "";
    }

    /// @dev The loose form, kept as a backstop: never more allowance in an epoch than DIEM existed in it.
    function _checkAllowancesWithinSupply(uint256 fromIndex) internal view returns (string memory) {
        uint256 epochs = handler.touchedEpochCount();
        for (uint256 i = fromIndex; i < epochs; ++i) {
            uint256 epoch = handler.touchedEpochs(i);
            uint256 sumWei = _sumOfAllowances(epoch);
            if (sumWei > handler.maxSupplyWei(epoch)) {
                return _broken("allowances exceed DIEM in existence", sumWei, handler.maxSupplyWei(epoch));
            }
        }
        return "";
    }

    // ------------------------------------------------------------ helpers

    function _sumOfAllowances(uint256 epoch) internal view returns (uint256 sumWei) {
        uint256 actors = handler.actorCount();
        for (uint256 j; j < actors; ++j) {
            sumWei += staking.allowanceOf(handler.actors(j), epoch);
        }
    }

    /// @dev I8: floor(max(0, peak - out) + in).
    function _rule(uint256 peakWei, uint256 outWei, uint256 inWei) internal view returns (uint256) {
        uint256 ownWei = peakWei > outWei ? peakWei - outWei : 0;
        return _floored(ownWei + inWei);
    }

    function _floored(uint256 amountWei) internal view returns (uint256) {
        return amountWei < staking.minAllowanceWei() ? 0 : amountWei;
    }

    function _broken(string memory what, uint256 actual, uint256 limit) internal pure returns (string memory) {
        return string.concat("[", what, ": ", vm.toString(actual), " vs ", vm.toString(limit), "] ");
    }

    function _brokenIfNonZero(string memory what, uint256 count) internal pure returns (string memory) {
        return count == 0 ? "" : string.concat("[", what, ": ", vm.toString(count), " times] ");
    }
}
