// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StakedVVVTestBase} from "./StakedVVVBase.t.sol";
import {IStakedVVV} from "../../src/interfaces/IStakedVVV.sol";

/// @dev The optional launch guard: a per-address DIEM mint cap during the first launchWindowSeconds.
contract StakedVVVLaunchTest is StakedVVVTestBase {
    uint256 internal constant WINDOW = 1 days;
    uint256 internal constant CAP_WEI = 10e18;

    function setUp() public override {
        IStakedVVV.Config memory config = defaultConfig();
        config.launchWindowSeconds = WINDOW;
        config.launchMintCapWei = CAP_WEI;
        deployAllWith(config);
        fund(alice, 1_000_000e18);
        fund(bob, 1_000_000e18);
        _stake(alice, 100_000e18);
        _stake(bob, 100_000e18);
    }

    function test_mintDiem_launchCapPerAddressWithinWindow() public {
        assertEq(svvv.launchWindowEndsAt(), T0 + WINDOW);
        _mint(alice, 6e18);
        _mint(alice, 4e18);
        assertEq(svvv.launchMintedOf(alice), CAP_WEI);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVLaunchMintCapExceeded.selector, 1, CAP_WEI, CAP_WEI)
        );
        _mint(alice, 1);
        // The cap is per address.
        _mint(bob, CAP_WEI);
    }

    function test_mintDiem_burnDoesNotRestoreLaunchCap() public {
        _mint(alice, CAP_WEI);
        _burn(alice, CAP_WEI);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVLaunchMintCapExceeded.selector, 1e18, CAP_WEI, CAP_WEI)
        );
        _mint(alice, 1e18);
    }

    function test_mintDiem_launchCapLiftsAtWindowEnd() public {
        _mint(alice, CAP_WEI);
        skip(WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVLaunchMintCapExceeded.selector, 1, CAP_WEI, CAP_WEI)
        );
        _mint(alice, 1);
        skip(1);
        _mint(alice, 100e18);
        assertEq(svvv.launchMintedOf(alice), CAP_WEI);
        assertEq(svvv.mintedOf(alice), CAP_WEI + 100e18);
    }

    function test_mintDiem_zeroCapClosesMintingDuringWindow() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.launchWindowSeconds = WINDOW;
        config.launchMintCapWei = 0;
        deployAllWith(config);
        fund(alice, 1_000e18);
        _stake(alice, 1_000e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVLaunchMintCapExceeded.selector, 1e18, 0, 0));
        _mint(alice, 1e18);
        skip(WINDOW);
        _mint(alice, 1e18);
    }

    function test_mintDiem_noWindowByDefault() public {
        deployAll();
        fund(alice, 1_000_000e18);
        _stake(alice, 1_000_000e18);
        assertEq(svvv.launchWindowEndsAt(), T0);
        _mint(alice, 1_000e18);
        assertEq(svvv.launchMintedOf(alice), 0);
    }
}
