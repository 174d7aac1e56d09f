// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Diem} from "../../src/Diem.sol";
import {IDiem} from "../../src/interfaces/IDiem.sol";

contract DiemTest is Test {
    address internal owner = makeAddr("owner");
    address internal minter = makeAddr("minter");
    address internal alice = makeAddr("alice");
    Diem internal diem;

    function setUp() public {
        diem = new Diem(owner);
    }

    function test_constructor_setsMetadata() public view {
        assertEq(diem.name(), "Diem");
        assertEq(diem.symbol(), "DIEM");
        assertEq(diem.totalSupply(), 0);
        assertEq(diem.owner(), owner);
        assertEq(diem.minter(), address(0));
    }

    function test_setMinter_setsOnce() public {
        vm.expectEmit(address(diem));
        emit IDiem.MinterSet(minter);
        vm.prank(owner);
        diem.setMinter(minter);
        assertEq(diem.minter(), minter);
    }

    function test_setMinter_secondCallReverts() public {
        vm.startPrank(owner);
        diem.setMinter(minter);
        vm.expectRevert(abi.encodeWithSelector(IDiem.DiemMinterAlreadySet.selector, minter));
        diem.setMinter(owner);
        vm.stopPrank();
    }

    function test_setMinter_notOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        diem.setMinter(alice);
    }

    function test_setMinter_zeroReverts() public {
        vm.expectRevert(IDiem.DiemZeroAddress.selector);
        vm.prank(owner);
        diem.setMinter(address(0));
    }

    function test_mint_byMinterAndTransferable() public {
        vm.prank(owner);
        diem.setMinter(minter);
        vm.prank(minter);
        diem.mint(alice, 3e18);
        vm.prank(alice);
        assertTrue(diem.transfer(owner, 1e18));
        assertEq(diem.balanceOf(alice), 2e18);
        assertEq(diem.balanceOf(owner), 1e18);
    }

    function test_mint_notMinterReverts() public {
        vm.prank(owner);
        diem.setMinter(minter);
        vm.expectRevert(abi.encodeWithSelector(IDiem.DiemNotMinter.selector, owner));
        vm.prank(owner);
        diem.mint(owner, 1);
    }

    function test_mint_beforeMinterSetReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IDiem.DiemNotMinter.selector, owner));
        vm.prank(owner);
        diem.mint(owner, 1);
        assertEq(diem.totalSupply(), 0);
    }

    function test_burn_byMinter() public {
        vm.startPrank(owner);
        diem.setMinter(minter);
        vm.stopPrank();
        vm.startPrank(minter);
        diem.mint(alice, 3e18);
        diem.burn(alice, 1e18);
        vm.stopPrank();
        assertEq(diem.totalSupply(), 2e18);
        assertEq(diem.balanceOf(alice), 2e18);
    }

    function test_burn_moreThanBalanceReverts() public {
        vm.prank(owner);
        diem.setMinter(minter);
        vm.startPrank(minter);
        diem.mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 1e18, 1e18 + 1));
        diem.burn(alice, 1e18 + 1);
        vm.stopPrank();
        assertEq(diem.balanceOf(alice), 1e18);
    }

    function test_burn_notMinterReverts() public {
        vm.prank(owner);
        diem.setMinter(minter);
        vm.prank(minter);
        diem.mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IDiem.DiemNotMinter.selector, owner));
        vm.prank(owner);
        diem.burn(alice, 1e18);
    }

    function test_permit_setsAllowance() public {
        (address signer, uint256 key) = makeAddrAndKey("signer");
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                signer,
                alice,
                1e18,
                diem.nonces(signer),
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", diem.DOMAIN_SEPARATOR(), structHash)));
        diem.permit(signer, alice, 1e18, deadline, v, r, s);
        assertEq(diem.allowance(signer, alice), 1e18);
        assertEq(diem.nonces(signer), 1);
    }
}
