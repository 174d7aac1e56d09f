// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";
import {PriceRegistry} from "../../src/PriceRegistry.sol";

/// @dev Drives PriceRegistry with the owner anchoring and re-anchoring epochs around the current one (past, current
/// and future, always attempted, never pre-checked), strangers trying to anchor, and time moving by seconds to days,
/// often to an epoch's last or first second.
///
/// Ghosts: per epoch, the hash the handler saw stored when that epoch began (taken at the first call in or after its
/// start), and counters of writes the contract must have refused (to a begun epoch, by a stranger) that succeeded.
contract PriceRegistryHandler is Test {
    PriceRegistry public immutable registry;
    address public immutable owner;
    uint256 public immutable epochSeconds;
    uint256 public immutable firstEpoch;
    /// @dev Epochs the handler anchors: firstEpoch - 2 … firstEpoch + epochSpan.
    uint256 public constant epochSpan = 12;

    mapping(uint256 epoch => bytes32 sheetHash) public hashAtStart;
    mapping(uint256 epoch => bool seen) public startSeen;
    uint256 public writesToBegunEpochs;
    uint256 public writesByStrangers;
    uint256 public ghostAnchors;

    constructor(PriceRegistry registry_, address owner_) {
        registry = registry_;
        owner = owner_;
        epochSeconds = registry_.epochSeconds();
        firstEpoch = registry_.currentEpoch();
    }

    function epochAt(uint256 index) public view returns (uint256) {
        return firstEpoch - 2 + (index % (epochSpan + 3));
    }

    /// @dev Freezes the ghost of every epoch that has begun: what is stored at its start is what must stay.
    function _observe() internal {
        uint256 current = registry.currentEpoch();
        for (uint256 e = firstEpoch - 2; e <= firstEpoch + epochSpan && e <= current; ++e) {
            if (startSeen[e]) continue;
            startSeen[e] = true;
            (hashAtStart[e],,,) = registry.anchorOf(e);
        }
    }

    function anchor(uint256 epochIndex, uint256 hashSeed, bool newUri) external {
        _observe();
        uint256 epoch = epochAt(epochIndex);
        bytes32 sheetHash = keccak256(abi.encode(hashSeed % 4));
        string memory uri = newUri ? vm.toString(hashSeed) : "uri";
        vm.prank(owner);
        try registry.anchor(epoch, sheetHash, uri) {
            ++ghostAnchors;
            if (epoch <= registry.currentEpoch()) ++writesToBegunEpochs;
        } catch {}
        _observe();
    }

    function anchorAsStranger(uint256 epochIndex, address stranger) external {
        if (stranger == owner) return;
        vm.prank(stranger);
        try registry.anchor(epochAt(epochIndex), keccak256("stranger"), "uri") {
            ++writesByStrangers;
        } catch {}
    }

    function warp(uint256 seconds_, uint8 mode) external {
        _observe();
        uint256 nowSeconds = block.timestamp;
        uint256 nextStart = (nowSeconds / epochSeconds + 1) * epochSeconds;
        if (mode % 3 == 0) vm.warp(nextStart - 1);
        else if (mode % 3 == 1) vm.warp(nextStart);
        else vm.warp(nowSeconds + bound(seconds_, 1, 2 * epochSeconds));
        _observe();
    }
}

contract PriceRegistryInvariantTest is StdInvariant, Test {
    uint256 internal constant EPOCH = 86_400;
    uint256 internal constant T0 = 1_767_225_600 + 3_600;

    PriceRegistry internal registry;
    PriceRegistryHandler internal handler;

    function setUp() public {
        vm.warp(T0);
        Diem diem = new Diem(address(this));
        DiemStaking staking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, 0.1e18);
        address owner = makeAddr("operator");
        registry = new PriceRegistry(owner, staking);
        handler = new PriceRegistryHandler(registry, owner);
        targetContract(address(handler));
    }

    /// @dev I1: an epoch's anchor never changes once the epoch has begun, and every anchor predates its epoch; I2: no
    /// zero hash is stored for an anchored epoch; I6: only the owner writes.
    function invariant_anchorsAreFinalOnceTheirEpochBegins() public view {
        assertEq(handler.writesToBegunEpochs(), 0, "write to a begun epoch");
        assertEq(handler.writesByStrangers(), 0, "write by a stranger");
        uint256 first = handler.firstEpoch();
        uint256 current = registry.currentEpoch();
        uint256 latest;
        for (uint256 e = first - 2; e <= first + handler.epochSpan(); ++e) {
            (bytes32 sheetHash,, uint256 anchoredAt,) = registry.anchorOf(e);
            if (e <= current && handler.startSeen(e)) assertEq(sheetHash, handler.hashAtStart(e), "begun epoch changed");
            if (sheetHash != bytes32(0)) {
                assertLt(anchoredAt, registry.epochStartsAt(e), "anchored after the epoch began");
                assertGt(e, registry.deploymentEpoch(), "anchored at or before deployment");
                latest = e;
            } else {
                assertEq(anchoredAt, 0, "time without a hash");
            }
        }
        assertEq(registry.latestAnchoredEpoch(), latest, "latestAnchoredEpoch");
    }
}
