// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";

/// @dev Drives DiemStaking with several actors: stake, initiateUnstake, withdraw, transfer, restake, mint, burn and
/// time moves, in any interleaving, plus directed attacks on the cooldown (unstake again just before an earlier
/// cooldown ends; unstake at an epoch's first second and withdraw at its last). It is the DIEM minter, so supply can
/// grow and shrink. Withdrawals are always attempted, never pre-checked, so a cooldown the contract fails to enforce
/// shows up as a payout.
///
/// Ghosts, observed after every state change (and at the first moment of every epoch, including epochs a warp skips):
///   - per actor and epoch: the peak stake, the DIEM cooling at the epoch's start, the DIEM withdrawn in the epoch;
///   - per epoch: totalStaked and totalCooling at its start, DIEM staked and withdrawn during it, the highest supply;
///   - per actor: the time of its latest initiateUnstake, and counters of withdrawals that broke the cooldown rule.
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
        (, uint256 endsAt) = staking.coolingOf(actor);
        _warpTo(endsAt - 1);
        _moveAndRestake(actor, to, _tryWithdraw(actor));
        if (!finish) return;
        _warpTo(endsAt);
        _moveAndRestake(actor, to, _tryWithdraw(actor));
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

    function _unstake(address actor, uint256 amountWei) internal {
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

    function _warpTo(uint256 timestamp) internal {
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

    /// @dev Every epoch's allowance is exactly the ghost's peak stake (floored at the minimum), the next epoch's is 0
    /// (not granted yet), and nextEpochAllowanceOf is the floored current stake.
    function _checkAllowancesAreGhostPeaks(uint256 fromIndex) internal view returns (string memory) {
        uint256 epochs = handler.touchedEpochCount();
        uint256 actors = handler.actorCount();
        uint256 current = staking.currentEpoch();
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            for (uint256 i = fromIndex; i < epochs; ++i) {
                uint256 epoch = handler.touchedEpochs(i);
                uint256 allowanceWei = staking.allowanceOf(actor, epoch);
                uint256 peakWei = _floored(handler.peakWei(actor, epoch));
                if (allowanceWei != peakWei) return _broken("allowanceOf != ghost peak", allowanceWei, peakWei);
            }
            uint256 futureWei = staking.allowanceOf(actor, current + 1);
            if (futureWei != 0) return _broken("allowanceOf stated for an epoch not reached", futureWei, 0);
            uint256 projectedWei = staking.nextEpochAllowanceOf(actor);
            uint256 stakedWei = _floored(staking.stakedOf(actor));
            if (projectedWei != stakedWei) return _broken("nextEpochAllowanceOf != stake", projectedWei, stakedWei);
        }
        return "";
    }

    /// @dev The current epoch's allowance is never below the current stake (a stake counts at once).
    function _checkCurrentAllowanceCoversCurrentStake() internal view returns (string memory) {
        uint256 actors = handler.actorCount();
        uint256 epoch = staking.currentEpoch();
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            uint256 stakedWei = staking.stakedOf(actor);
            uint256 allowanceWei = staking.allowanceOf(actor, epoch);
            if (stakedWei >= staking.minAllowanceWei() && allowanceWei < stakedWei) {
                return _broken("current allowance below current stake", allowanceWei, stakedWei);
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
