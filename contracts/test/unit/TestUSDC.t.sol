// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {TestUSDC} from "../../src/TestUSDC.sol";
import {ITestUSDC} from "../../src/interfaces/ITestUSDC.sol";

/// @dev An EIP-1271 wallet that accepts exactly one digest.
contract OneDigestWallet is IERC1271 {
    bytes32 public accepted;

    function accept(bytes32 digest) external {
        accepted = digest;
    }

    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return digest == accepted ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

contract TestUSDCTest is Test {
    address internal owner = makeAddr("owner");
    address internal bob = makeAddr("bob");
    address internal relayer = makeAddr("relayer");
    uint256 internal alicePk = 0xA11CE;
    address internal alice = vm.addr(alicePk);
    TestUSDC internal usdc;

    uint256 internal constant VALUE = 5_000_000; // $5
    bytes32 internal constant NONCE = keccak256("nonce-1");

    function setUp() public {
        vm.warp(1_700_000_000);
        usdc = new TestUSDC(owner);
        vm.prank(owner);
        usdc.mint(alice, 100_000_000);
    }

    // ---- helpers

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash));
    }

    function _authHash(
        bytes32 typehash,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) internal view returns (bytes32) {
        return _digest(keccak256(abi.encode(typehash, alice, to, value, validAfter, validBefore, nonce)));
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _transferSig(address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce)
        internal
        view
        returns (bytes memory)
    {
        return _sign(
            alicePk, _authHash(usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), to, value, validAfter, validBefore, nonce)
        );
    }

    function _receiveSig(address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce)
        internal
        view
        returns (bytes memory)
    {
        return _sign(
            alicePk, _authHash(usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(), to, value, validAfter, validBefore, nonce)
        );
    }

    function _cancelSig(uint256 pk, address authorizer, bytes32 nonce) internal view returns (bytes memory) {
        return _sign(pk, _digest(keccak256(abi.encode(usdc.CANCEL_AUTHORIZATION_TYPEHASH(), authorizer, nonce))));
    }

    function _split(bytes memory sig) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
    }

    function _validBefore() internal view returns (uint256) {
        return block.timestamp + 60;
    }

    // ---- metadata and mint

    function test_constructor_setsMetadata() public view {
        assertEq(usdc.name(), "Test USDC");
        assertEq(usdc.symbol(), "tUSDC");
        assertEq(usdc.decimals(), 6);
        assertEq(usdc.owner(), owner);
        assertEq(usdc.totalSupply(), 100_000_000);
    }

    function test_mint_byOwner() public {
        vm.prank(owner);
        usdc.mint(bob, 7);
        assertEq(usdc.balanceOf(bob), 7);
    }

    function test_mint_notOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        usdc.mint(bob, 1);
    }

    // ---- transferWithAuthorization (bytes signature)

    function test_transferWithAuthorization_movesFundsAndSpendsNonce() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectEmit(address(usdc));
        emit ITestUSDC.AuthorizationUsed(alice, NONCE);
        vm.prank(relayer);
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
        assertEq(usdc.balanceOf(bob), VALUE);
        assertEq(usdc.balanceOf(alice), 100_000_000 - VALUE);
        assertTrue(usdc.authorizationState(alice, NONCE));
    }

    function test_transferWithAuthorization_replayReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationUsed.selector, alice, NONCE));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_transferWithAuthorization_notYetValidReverts() public {
        uint256 validAfter = block.timestamp;
        bytes memory sig = _transferSig(bob, VALUE, validAfter, _validBefore(), NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationNotYetValid.selector, validAfter));
        usdc.transferWithAuthorization(alice, bob, VALUE, validAfter, _validBefore(), NONCE, sig);
    }

    function test_transferWithAuthorization_expiredReverts() public {
        uint256 validBefore = block.timestamp;
        bytes memory sig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationExpired.selector, validBefore));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_transferWithAuthorization_wrongValueReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.transferWithAuthorization(alice, bob, VALUE + 1, 0, validBefore, NONCE, sig);
    }

    function test_transferWithAuthorization_otherSignerReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig =
            _sign(0xB0B, _authHash(usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), bob, VALUE, 0, validBefore, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_transferWithAuthorization_receiveSignatureReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _receiveSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_transferWithAuthorization_insufficientBalanceReverts() public {
        uint256 validBefore = _validBefore();
        uint256 tooMuch = 100_000_001;
        bytes memory sig = _transferSig(bob, tooMuch, 0, validBefore, NONCE);
        vm.expectRevert();
        usdc.transferWithAuthorization(alice, bob, tooMuch, 0, validBefore, NONCE, sig);
        assertFalse(usdc.authorizationState(alice, NONCE));
    }

    function test_transferWithAuthorization_contractWalletSignature() public {
        OneDigestWallet wallet = new OneDigestWallet();
        vm.prank(owner);
        usdc.mint(address(wallet), VALUE);
        uint256 validBefore = _validBefore();
        bytes32 structHash = keccak256(
            abi.encode(usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), address(wallet), bob, VALUE, 0, validBefore, NONCE)
        );
        wallet.accept(_digest(structHash));
        usdc.transferWithAuthorization(address(wallet), bob, VALUE, 0, validBefore, NONCE, hex"");
        assertEq(usdc.balanceOf(bob), VALUE);
    }

    // ---- transferWithAuthorization (v, r, s)

    function test_transferWithAuthorization_splitSignature() public {
        uint256 validBefore = _validBefore();
        (uint8 v, bytes32 r, bytes32 s) = _split(_transferSig(bob, VALUE, 0, validBefore, NONCE));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, v, r, s);
        assertEq(usdc.balanceOf(bob), VALUE);
    }

    function test_transferWithAuthorization_splitSignatureWrongSignerReverts() public {
        uint256 validBefore = _validBefore();
        (uint8 v, bytes32 r, bytes32 s) = _split(_transferSig(bob, VALUE, 0, validBefore, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.transferWithAuthorization(alice, relayer, VALUE, 0, validBefore, NONCE, v, r, s);
    }

    // ---- receiveWithAuthorization

    function test_receiveWithAuthorization_byPayee() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _receiveSig(bob, VALUE, 0, validBefore, NONCE);
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
        assertEq(usdc.balanceOf(bob), VALUE);
        assertTrue(usdc.authorizationState(alice, NONCE));
    }

    function test_receiveWithAuthorization_notPayeeReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _receiveSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCCallerNotPayee.selector, relayer, bob));
        vm.prank(relayer);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_receiveWithAuthorization_transferSignatureReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_receiveWithAuthorization_expiredReverts() public {
        uint256 validBefore = block.timestamp;
        bytes memory sig = _receiveSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationExpired.selector, validBefore));
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
    }

    function test_receiveWithAuthorization_notYetValidReverts() public {
        uint256 validAfter = block.timestamp + 10;
        bytes memory sig = _receiveSig(bob, VALUE, validAfter, _validBefore(), NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationNotYetValid.selector, validAfter));
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, validAfter, _validBefore(), NONCE, sig);
    }

    function test_receiveWithAuthorization_replayReverts() public {
        uint256 validBefore = _validBefore();
        bytes memory sig = _receiveSig(bob, VALUE, 0, validBefore, NONCE);
        vm.startPrank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationUsed.selector, alice, NONCE));
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, sig);
        vm.stopPrank();
    }

    function test_receiveWithAuthorization_splitSignature() public {
        uint256 validBefore = _validBefore();
        (uint8 v, bytes32 r, bytes32 s) = _split(_receiveSig(bob, VALUE, 0, validBefore, NONCE));
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, v, r, s);
        assertEq(usdc.balanceOf(bob), VALUE);
    }

    function test_receiveWithAuthorization_splitSignatureNotPayeeReverts() public {
        uint256 validBefore = _validBefore();
        (uint8 v, bytes32 r, bytes32 s) = _split(_receiveSig(bob, VALUE, 0, validBefore, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCCallerNotPayee.selector, relayer, bob));
        vm.prank(relayer);
        usdc.receiveWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, v, r, s);
    }

    // ---- cancelAuthorization

    function test_cancelAuthorization_spendsNonce() public {
        bytes memory sig = _cancelSig(alicePk, alice, NONCE);
        vm.expectEmit(address(usdc));
        emit ITestUSDC.AuthorizationCanceled(alice, NONCE);
        usdc.cancelAuthorization(alice, NONCE, sig);
        assertTrue(usdc.authorizationState(alice, NONCE));

        uint256 validBefore = _validBefore();
        bytes memory transferSig = _transferSig(bob, VALUE, 0, validBefore, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationUsed.selector, alice, NONCE));
        usdc.transferWithAuthorization(alice, bob, VALUE, 0, validBefore, NONCE, transferSig);
    }

    function test_cancelAuthorization_usedNonceReverts() public {
        uint256 validBefore = _validBefore();
        usdc.transferWithAuthorization(
            alice, bob, VALUE, 0, validBefore, NONCE, _transferSig(bob, VALUE, 0, validBefore, NONCE)
        );
        bytes memory sig = _cancelSig(alicePk, alice, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCAuthorizationUsed.selector, alice, NONCE));
        usdc.cancelAuthorization(alice, NONCE, sig);
    }

    function test_cancelAuthorization_otherSignerReverts() public {
        bytes memory sig = _cancelSig(0xB0B, alice, NONCE);
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.cancelAuthorization(alice, NONCE, sig);
    }

    function test_cancelAuthorization_splitSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = _split(_cancelSig(alicePk, alice, NONCE));
        usdc.cancelAuthorization(alice, NONCE, v, r, s);
        assertTrue(usdc.authorizationState(alice, NONCE));
    }

    function test_cancelAuthorization_splitSignatureOtherSignerReverts() public {
        (uint8 v, bytes32 r, bytes32 s) = _split(_cancelSig(0xB0B, alice, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ITestUSDC.TestUSDCInvalidSignature.selector, alice));
        usdc.cancelAuthorization(alice, NONCE, v, r, s);
    }

    // ---- permit (EIP-2612)

    function test_permit_setsAllowance() public {
        uint256 deadline = _validBefore();
        bytes32 permitTypehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        bytes32 digest = _digest(keccak256(abi.encode(permitTypehash, alice, bob, VALUE, usdc.nonces(alice), deadline)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(alicePk, digest);
        usdc.permit(alice, bob, VALUE, deadline, v, r, s);
        assertEq(usdc.allowance(alice, bob), VALUE);
        assertEq(usdc.nonces(alice), 1);
    }

    function test_permit_expiredReverts() public {
        uint256 deadline = block.timestamp - 1;
        bytes32 permitTypehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        bytes32 digest = _digest(keccak256(abi.encode(permitTypehash, alice, bob, VALUE, 0, deadline)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(alicePk, digest);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        usdc.permit(alice, bob, VALUE, deadline, v, r, s);
    }
}
