// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Fixture} from "../utils/Fixture.sol";

/// @dev Two funded stakers and one-line actions, shared by the StakedVVV unit test files.
abstract contract StakedVVVTestBase is Fixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public virtual {
        deployAll();
        fund(alice, 1_000_000e18);
        fund(bob, 1_000_000e18);
    }

    function _stake(address account, uint256 amountWei) internal {
        vm.prank(account);
        svvv.stake(amountWei);
    }

    function _mint(address account, uint256 diemWei) internal returns (uint256) {
        vm.prank(account);
        return svvv.mintDiem(diemWei, type(uint256).max);
    }

    function _burn(address account, uint256 diemWei) internal returns (uint256) {
        vm.prank(account);
        return svvv.burnDiem(diemWei);
    }

    function _unstake(address account, uint256 amountWei) internal {
        vm.prank(account);
        svvv.initiateUnstake(amountWei);
    }

    function _claim(address account) internal returns (uint256) {
        vm.prank(account);
        return svvv.claimRewards();
    }

    function _propose(uint256 annualEmissionWei) internal {
        vm.prank(owner);
        svvv.proposeAnnualEmission(annualEmissionWei);
    }

    /// @dev Proposes, waits out the delay and applies.
    function _changeEmission(uint256 annualEmissionWei) internal {
        _propose(annualEmissionWei);
        skip(EMISSION_CHANGE_DELAY);
        svvv.applyAnnualEmission();
    }

    /// @dev The schedule's ceiling of step `step` recomputed here: floor(previous * (10,000 - decay) / 10,000).
    function _ceilingOfStep(uint256 step) internal pure returns (uint256 ceilingWei) {
        ceilingWei = MAX_ANNUAL_EMISSION_WEI;
        for (uint256 i; i < step; ++i) {
            ceilingWei = ceilingWei * (10_000 - EMISSION_DECAY_BPS) / 10_000;
        }
    }
}
