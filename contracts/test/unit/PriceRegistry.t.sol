// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Diem} from "../../src/Diem.sol";
import {DiemStaking} from "../../src/DiemStaking.sol";
import {PriceRegistry} from "../../src/PriceRegistry.sol";
import {IDiemStaking} from "../../src/interfaces/IDiemStaking.sol";
import {IPriceRegistry} from "../../src/interfaces/IPriceRegistry.sol";

contract PriceRegistryTest is Test {
    uint256 internal constant EPOCH = 86_400;
    /// @dev 2026-01-01T00:00:00Z plus one hour: inside an epoch, not at its boundary.
    uint256 internal constant T0 = 1_767_225_600 + 3_600;
    bytes32 internal constant HASH_A = keccak256("sheet a");
    bytes32 internal constant HASH_B = keccak256("sheet b");
    string internal constant URI = "http://127.0.0.1:8787/v1/prices/sheets/0xa";

    address internal operator = makeAddr("operator");
    address internal alice = makeAddr("alice");
    DiemStaking internal staking;
    PriceRegistry internal registry;
    uint256 internal e0;

    function setUp() public {
        vm.warp(T0);
        Diem diem = new Diem(address(this));
        staking = new DiemStaking(IERC20(address(diem)), EPOCH, EPOCH, 0.1e18);
        registry = new PriceRegistry(operator, staking);
        e0 = T0 / EPOCH;
    }

    function _anchor(uint256 epoch, bytes32 sheetHash, string memory uri) internal {
        vm.prank(operator);
        registry.anchor(epoch, sheetHash, uri);
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_takesTheStakingEpochs() public view {
        assertEq(address(registry.staking()), address(staking));
        assertEq(registry.epochSeconds(), EPOCH);
        assertEq(registry.deploymentEpoch(), e0);
        assertEq(registry.currentEpoch(), e0);
        assertEq(registry.currentEpoch(), staking.currentEpoch());
        assertEq(registry.owner(), operator);
        assertEq(registry.latestAnchoredEpoch(), 0);
        assertEq(registry.maxUriBytes(), 2048);
    }

    function test_constructor_shortEpochsFromStaking() public {
        Diem diem = new Diem(address(this));
        DiemStaking fast = new DiemStaking(IERC20(address(diem)), 60, 60, 0.1e18);
        PriceRegistry fastRegistry = new PriceRegistry(operator, fast);
        assertEq(fastRegistry.epochSeconds(), 60);
        assertEq(fastRegistry.currentEpoch(), T0 / 60);
        assertEq(fastRegistry.epochStartsAt(T0 / 60 + 1), (T0 / 60 + 1) * 60);
    }

    function test_constructor_zeroStakingReverts() public {
        vm.expectRevert(IPriceRegistry.PriceRegistryZeroAddress.selector);
        new PriceRegistry(operator, IDiemStaking(address(0)));
    }

    function test_constructor_zeroOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new PriceRegistry(address(0), staking);
    }

    // ------------------------------------------------------------ anchor

    function test_anchor_nextEpochStoresAndEmits() public {
        vm.expectEmit(address(registry));
        emit IPriceRegistry.SheetAnchored(e0 + 1, HASH_A, URI, bytes32(0));
        _anchor(e0 + 1, HASH_A, URI);
        (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, HASH_A);
        assertEq(uri, URI);
        assertEq(anchoredAt, T0);
        assertEq(anchoredBlock, block.number);
        assertEq(registry.latestAnchoredEpoch(), e0 + 1);
        assertLt(anchoredAt, registry.epochStartsAt(e0 + 1));
    }

    function test_anchor_currentEpochReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryEpochStarted.selector, e0, e0));
        _anchor(e0, HASH_A, URI);
    }

    function test_anchor_pastEpochReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryEpochStarted.selector, e0 - 5, e0));
        _anchor(e0 - 5, HASH_A, URI);
    }

    function test_anchor_atTheFirstSecondOfTheEpochReverts() public {
        _anchor(e0 + 1, HASH_A, URI);
        vm.warp((e0 + 1) * EPOCH - 1);
        _anchor(e0 + 1, HASH_B, URI);
        vm.warp((e0 + 1) * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryEpochStarted.selector, e0 + 1, e0 + 1));
        _anchor(e0 + 1, HASH_A, URI);
        (bytes32 sheetHash,, uint256 anchoredAt,) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, HASH_B);
        assertEq(anchoredAt, (e0 + 1) * EPOCH - 1);
    }

    function test_anchor_zeroHashReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryZeroHash.selector, e0 + 1));
        _anchor(e0 + 1, bytes32(0), URI);
    }

    function test_anchor_emptyUriReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryUriLength.selector, 0, 2048));
        _anchor(e0 + 1, HASH_A, "");
    }

    function test_anchor_uriAtTheLimit() public {
        string memory longest = string(new bytes(2048));
        _anchor(e0 + 1, HASH_A, longest);
        (, string memory uri,,) = registry.anchorOf(e0 + 1);
        assertEq(bytes(uri).length, 2048);
    }

    function test_anchor_uriAboveTheLimitReverts() public {
        string memory tooLong = string(new bytes(2049));
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryUriLength.selector, 2049, 2048));
        _anchor(e0 + 1, HASH_A, tooLong);
    }

    function test_anchor_notOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        registry.anchor(e0 + 1, HASH_A, URI);
    }

    function test_anchor_replaceBeforeTheEpochRestartsTheAnnouncement() public {
        _anchor(e0 + 1, HASH_A, URI);
        skip(600);
        vm.roll(block.number + 50);
        vm.expectEmit(address(registry));
        emit IPriceRegistry.SheetAnchored(e0 + 1, HASH_B, "ipfs://b", HASH_A);
        _anchor(e0 + 1, HASH_B, "ipfs://b");
        (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, HASH_B);
        assertEq(uri, "ipfs://b");
        assertEq(anchoredAt, T0 + 600);
        assertEq(anchoredBlock, block.number);
    }

    function test_anchor_newUriForTheSameHashKeepsTheAnnouncement() public {
        _anchor(e0 + 1, HASH_A, URI);
        uint256 firstBlock = block.number;
        skip(600);
        vm.roll(block.number + 50);
        vm.expectEmit(address(registry));
        emit IPriceRegistry.SheetAnchored(e0 + 1, HASH_A, "ipfs://a", HASH_A);
        _anchor(e0 + 1, HASH_A, "ipfs://a");
        (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, HASH_A);
        assertEq(uri, "ipfs://a");
        assertEq(anchoredAt, T0);
        assertEq(anchoredBlock, firstBlock);
    }

    function test_anchor_unchangedReverts() public {
        _anchor(e0 + 1, HASH_A, URI);
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryAnchorUnchanged.selector, e0 + 1, HASH_A));
        _anchor(e0 + 1, HASH_A, URI);
    }

    function test_anchor_laterEpochsKeepEarlierOnes() public {
        _anchor(e0 + 3, HASH_B, "three");
        _anchor(e0 + 1, HASH_A, "one");
        assertEq(registry.latestAnchoredEpoch(), e0 + 3);
        (bytes32 one,,,) = registry.anchorOf(e0 + 1);
        (bytes32 two,, uint256 twoAt,) = registry.anchorOf(e0 + 2);
        (bytes32 three,,,) = registry.anchorOf(e0 + 3);
        assertEq(one, HASH_A);
        assertEq(two, bytes32(0));
        assertEq(twoAt, 0);
        assertEq(three, HASH_B);
    }

    function test_anchor_timestampAboveUint64Reverts() public {
        uint256 far = uint256(type(uint64).max) + 1;
        vm.warp(far);
        uint256 epoch = far / EPOCH + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 64, far));
        _anchor(epoch, HASH_A, URI);
    }

    function test_anchor_afterOwnershipHandover() public {
        vm.prank(operator);
        registry.transferOwnership(alice);
        // Not yet accepted: the old owner still anchors, the new one cannot.
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        registry.anchor(e0 + 1, HASH_A, URI);
        vm.prank(alice);
        registry.acceptOwnership();
        vm.prank(alice);
        registry.anchor(e0 + 1, HASH_A, URI);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, operator));
        _anchor(e0 + 2, HASH_A, URI);
    }

    // ------------------------------------------------------------ anchorOf

    function test_anchorOf_unanchoredIsZero() public view {
        (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, bytes32(0));
        assertEq(bytes(uri).length, 0);
        assertEq(anchoredAt, 0);
        assertEq(anchoredBlock, 0);
    }

    function test_anchorOf_finalOnceTheEpochBegins() public {
        _anchor(e0 + 1, HASH_A, URI);
        vm.warp((e0 + 1) * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryEpochStarted.selector, e0 + 1, e0 + 1));
        _anchor(e0 + 1, HASH_B, URI);
        (bytes32 sheetHash,,,) = registry.anchorOf(e0 + 1);
        assertEq(sheetHash, HASH_A);
    }

    // ------------------------------------------------------------ fuzz

    /// @dev I1: whatever the time and epoch, an anchor is accepted exactly when its epoch lies ahead, and then it
    /// was made before the epoch's first second.
    function testFuzz_anchor_onlyAheadOfTheEpoch(uint256 nowSeconds, uint256 epoch, bytes32 sheetHash) public {
        nowSeconds = bound(nowSeconds, T0, type(uint64).max);
        epoch = bound(epoch, 0, type(uint64).max / EPOCH + 2);
        vm.assume(sheetHash != bytes32(0));
        vm.warp(nowSeconds);
        uint256 current = nowSeconds / EPOCH;
        if (epoch <= current) {
            vm.expectRevert(abi.encodeWithSelector(IPriceRegistry.PriceRegistryEpochStarted.selector, epoch, current));
            _anchor(epoch, sheetHash, URI);
            return;
        }
        _anchor(epoch, sheetHash, URI);
        (bytes32 stored,, uint256 anchoredAt,) = registry.anchorOf(epoch);
        assertEq(stored, sheetHash);
        assertLt(anchoredAt, registry.epochStartsAt(epoch));
        assertEq(registry.latestAnchoredEpoch(), epoch);
        assertGt(registry.latestAnchoredEpoch(), registry.deploymentEpoch());
    }

    /// @dev I3 and I4 over a sequence of anchors: the stored hash is the last one written, anchoredAt restarts only
    /// with a new hash, and latestAnchoredEpoch is the maximum.
    function testFuzz_anchor_sequenceKeepsTheLastHashAndTheMaximum(uint8[8] memory offsets, uint8[8] memory picks)
        public
    {
        bytes32[3] memory hashes = [HASH_A, HASH_B, keccak256("sheet c")];
        uint256 maxEpoch;
        for (uint256 i; i < offsets.length; ++i) {
            uint256 epoch = e0 + 1 + (offsets[i] % 4);
            bytes32 sheetHash = hashes[picks[i] % 3];
            string memory uri = vm.toString(i);
            (bytes32 before,, uint256 beforeAt,) = registry.anchorOf(epoch);
            skip(1);
            _anchor(epoch, sheetHash, uri);
            (bytes32 stored, string memory storedUri, uint256 anchoredAt,) = registry.anchorOf(epoch);
            assertEq(stored, sheetHash);
            assertEq(storedUri, uri);
            assertEq(anchoredAt, before == sheetHash ? beforeAt : block.timestamp);
            if (epoch > maxEpoch) maxEpoch = epoch;
            assertEq(registry.latestAnchoredEpoch(), maxEpoch);
        }
    }

    /// @dev Only the owner anchors, whoever calls.
    function testFuzz_anchor_onlyTheOwner(address caller) public {
        vm.assume(caller != operator);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        registry.anchor(e0 + 1, HASH_A, URI);
    }
}
