// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";

/// @dev Drives DiemStaking with several actors: stake, initiateUnstake, withdraw, transfer, restake, mint, burn and
/// time moves, in any interleaving. It is the DIEM minter, so supply can grow and shrink; the ghost keeps the highest
/// DIEM supply seen in every epoch it touched.
contract DiemStakingHandler is Test {
    Diem public immutable diem;
    DiemStaking public immutable staking;
    uint256 public immutable epochSeconds;
    address[] public actors;

    uint256[] public touchedEpochs;
    mapping(uint256 epoch => uint256 supplyWei) public maxSupplyInEpoch;
    mapping(uint256 epoch => bool) internal _touched;
    uint256 public lastEpoch;

    uint256 public ghostStakeCalls;
    uint256 public ghostWithdrawCalls;
    uint256 public ghostTransfers;

    constructor(Diem diem_, DiemStaking staking_, uint256 actorCount) {
        diem = diem_;
        staking = staking_;
        epochSeconds = staking_.epochSeconds();
        for (uint256 i; i < actorCount; ++i) {
            address actor = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(actor);
            vm.prank(actor);
            diem.approve(address(staking), type(uint256).max);
        }
        lastEpoch = block.timestamp / epochSeconds;
        _observe();
    }

    modifier observed() {
        _observe();
        _;
        _observe();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function touchedEpochCount() external view returns (uint256) {
        return touchedEpochs.length;
    }

    // ------------------------------------------------------------ actions

    function mint(uint256 actorSeed, uint256 amountWei) external observed {
        diem.mint(_actor(actorSeed), bound(amountWei, 1, 1_000e18));
    }

    function burn(uint256 actorSeed, uint256 amountWei) external observed {
        address actor = _actor(actorSeed);
        uint256 balanceWei = diem.balanceOf(actor);
        if (balanceWei == 0) return;
        diem.burn(actor, _amount(amountWei, balanceWei));
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amountWei) external observed {
        address from = _actor(fromSeed);
        uint256 balanceWei = diem.balanceOf(from);
        if (balanceWei == 0) return;
        vm.prank(from);
        assertTrue(diem.transfer(_actor(toSeed), _amount(amountWei, balanceWei)));
        ++ghostTransfers;
    }

    /// @dev Also the "restake" step: DIEM withdrawn or received by transfer goes back in here.
    function stake(uint256 actorSeed, uint256 amountWei) external observed {
        address actor = _actor(actorSeed);
        uint256 balanceWei = diem.balanceOf(actor);
        if (balanceWei == 0) return;
        vm.prank(actor);
        staking.stake(_amount(amountWei, balanceWei));
        ++ghostStakeCalls;
    }

    function initiateUnstake(uint256 actorSeed, uint256 amountWei) external observed {
        address actor = _actor(actorSeed);
        uint256 stakedWei = staking.stakedOf(actor);
        if (stakedWei == 0) return;
        vm.prank(actor);
        staking.initiateUnstake(_amount(amountWei, stakedWei));
    }

    /// @dev Withdraws if possible; with `jumpToEnd` it first warps to the exact second the cooldown ends.
    function withdraw(uint256 actorSeed, bool jumpToEnd) external observed {
        address actor = _actor(actorSeed);
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(actor);
        if (coolingWei == 0) return;
        if (jumpToEnd && block.timestamp < endsAt) _warpTo(endsAt);
        if (block.timestamp < endsAt) return;
        vm.prank(actor);
        staking.withdraw();
        ++ghostWithdrawCalls;
    }

    /// @dev The attack the allowance rule exists for, as one step: unstake, wait out the cooldown (jumping straight to
    /// its end), withdraw, hand the DIEM to another actor and restake it there.
    function unstakeTransferRestake(uint256 fromSeed, uint256 toSeed, uint256 amountWei) external observed {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        uint256 stakedWei = staking.stakedOf(from);
        if (stakedWei != 0) {
            vm.prank(from);
            staking.initiateUnstake(_amount(amountWei, stakedWei));
        }
        (uint256 coolingWei, uint256 endsAt) = staking.coolingOf(from);
        if (coolingWei == 0) return;
        if (block.timestamp < endsAt) _warpTo(endsAt);
        vm.startPrank(from);
        staking.withdraw();
        assertTrue(diem.transfer(to, coolingWei));
        vm.stopPrank();
        vm.prank(to);
        staking.stake(coolingWei);
        ++ghostWithdrawCalls;
        ++ghostTransfers;
        ++ghostStakeCalls;
    }

    function warp(uint256 secondsAhead) external observed {
        _warpTo(block.timestamp + bound(secondsAhead, 0, 2 * epochSeconds));
    }

    /// @dev Lands on the last second of the epoch or the first of the next one, where off-by-one bugs live.
    function warpToEpochEdge(bool lastSecond) external observed {
        uint256 nextStart = (block.timestamp / epochSeconds + 1) * epochSeconds;
        _warpTo(lastSecond ? nextStart - 1 : nextStart);
    }

    // ------------------------------------------------------------ ghost

    function _warpTo(uint256 timestamp) internal {
        vm.warp(timestamp);
        _observe();
    }

    /// @dev Records the supply for the current epoch and every epoch skipped over since the last observation
    /// (the supply was constant during those).
    function _observe() internal {
        uint256 epoch = block.timestamp / epochSeconds;
        uint256 supplyWei = diem.totalSupply();
        for (uint256 e = lastEpoch; e <= epoch; ++e) {
            if (!_touched[e]) {
                _touched[e] = true;
                touchedEpochs.push(e);
            }
            if (supplyWei > maxSupplyInEpoch[e]) maxSupplyInEpoch[e] = supplyWei;
        }
        lastEpoch = epoch;
    }

    /// @dev Half of the time the whole amount: moving everything is what stresses the per-epoch bound.
    function _amount(uint256 seed, uint256 maxWei) internal pure returns (uint256) {
        return seed % 2 == 0 ? maxWei : bound(seed, 1, maxWei);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }
}

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

    /// @dev The core economic invariant: one DIEM backs at most $1 per epoch across all accounts.
    function invariant_allowancesNeverExceedSupplyInAnyEpoch() public view {
        uint256 epochs = handler.touchedEpochCount();
        uint256 actors = handler.actorCount();
        for (uint256 i; i < epochs; ++i) {
            uint256 epoch = handler.touchedEpochs(i);
            uint256 sumWei;
            for (uint256 j; j < actors; ++j) {
                sumWei += staking.allowanceOf(handler.actors(j), epoch);
            }
            assertLe(sumWei, handler.maxSupplyInEpoch(epoch), "allowances exceed DIEM in existence");
        }
    }

    function invariant_stakesEqualTokenBalance() public view {
        uint256 actors = handler.actorCount();
        uint256 stakedWei;
        uint256 coolingWei;
        for (uint256 j; j < actors; ++j) {
            stakedWei += staking.stakedOf(handler.actors(j));
            (uint256 c,) = staking.coolingOf(handler.actors(j));
            coolingWei += c;
        }
        assertEq(stakedWei, staking.totalStaked());
        assertEq(coolingWei, staking.totalCooling());
        assertEq(stakedWei + coolingWei, diem.balanceOf(address(staking)));
    }

    /// @dev The current epoch's allowance is never below the current stake (a stake counts at once).
    function invariant_currentAllowanceCoversCurrentStake() public view {
        uint256 actors = handler.actorCount();
        uint256 epoch = staking.currentEpoch();
        for (uint256 j; j < actors; ++j) {
            address actor = handler.actors(j);
            uint256 stakedWei = staking.stakedOf(actor);
            if (stakedWei >= staking.minAllowanceWei()) assertGe(staking.allowanceOf(actor, epoch), stakedWei);
        }
    }
}
