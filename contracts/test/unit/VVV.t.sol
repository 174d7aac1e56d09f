// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {VVV} from "../../src/VVV.sol";
import {IVVV} from "../../src/interfaces/IVVV.sol";

contract VVVTest is Test {
    address internal owner = makeAddr("owner");
    address internal holder = makeAddr("holder");
    address internal minter = makeAddr("minter");
    VVV internal vvv;

    function setUp() public {
        vvv = new VVV(owner, holder, 1_000e18);
    }

    function test_constructor_mintsGenesisSupply() public view {
        assertEq(vvv.totalSupply(), 1_000e18);
        assertEq(vvv.balanceOf(holder), 1_000e18);
        assertEq(vvv.owner(), owner);
        assertEq(vvv.emissionsMinter(), address(0));
        assertEq(vvv.name(), "VVV");
        assertEq(vvv.symbol(), "VVV");
        assertEq(vvv.decimals(), 18);
    }

    function test_constructor_zeroHolderReverts() public {
        vm.expectRevert(IVVV.VVVZeroAddress.selector);
        new VVV(owner, address(0), 1);
    }

    function test_setEmissionsMinter_setsOnce() public {
        vm.expectEmit(address(vvv));
        emit IVVV.EmissionsMinterSet(minter);
        vm.prank(owner);
        vvv.setEmissionsMinter(minter);
        assertEq(vvv.emissionsMinter(), minter);
    }

    function test_setEmissionsMinter_secondCallReverts() public {
        vm.startPrank(owner);
        vvv.setEmissionsMinter(minter);
        vm.expectRevert(abi.encodeWithSelector(IVVV.VVVEmissionsMinterAlreadySet.selector, minter));
        vvv.setEmissionsMinter(makeAddr("other"));
        vm.stopPrank();
    }

    function test_setEmissionsMinter_notOwnerReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, minter));
        vm.prank(minter);
        vvv.setEmissionsMinter(minter);
    }

    function test_setEmissionsMinter_zeroReverts() public {
        vm.expectRevert(IVVV.VVVZeroAddress.selector);
        vm.prank(owner);
        vvv.setEmissionsMinter(address(0));
    }

    function test_mint_byMinter() public {
        vm.prank(owner);
        vvv.setEmissionsMinter(minter);
        vm.prank(minter);
        vvv.mint(holder, 5e18);
        assertEq(vvv.totalSupply(), 1_005e18);
        assertEq(vvv.balanceOf(holder), 1_005e18);
    }

    function test_mint_byOwnerReverts() public {
        vm.prank(owner);
        vvv.setEmissionsMinter(minter);
        vm.expectRevert(abi.encodeWithSelector(IVVV.VVVNotEmissionsMinter.selector, owner));
        vm.prank(owner);
        vvv.mint(owner, 1);
    }

    function test_mint_beforeMinterSetReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IVVV.VVVNotEmissionsMinter.selector, owner));
        vm.prank(owner);
        vvv.mint(holder, 1);
    }

    function test_permit_setsAllowance() public {
        (address signer, uint256 key) = makeAddrAndKey("signer");
        vm.prank(holder);
        assertTrue(vvv.transfer(signer, 1e18));
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                signer,
                minter,
                1e18,
                vvv.nonces(signer),
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", vvv.DOMAIN_SEPARATOR(), structHash)));
        vvv.permit(signer, minter, 1e18, deadline, v, r, s);
        assertEq(vvv.allowance(signer, minter), 1e18);
    }
}
