// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {EpochAllowance} from "../../../src/libraries/EpochAllowance.sol";

contract EpochAllowanceTest is Test {
    using EpochAllowance for EpochAllowance.History;

    EpochAllowance.History internal history;

    function test_peakAt_emptyIsZero() public view {
        assertEq(history.peakAt(0), 0);
        assertEq(history.peakAt(123), 0);
    }

    function test_record_increaseRaisesPeakDecreaseKeepsIt() public {
        history.record(5, 10);
        history.record(5, 30);
        history.record(5, 4);
        assertEq(history.peakAt(5), 30);
        assertEq(history.peakAt(6), 4);
        assertEq(history.peakAt(4), 0);
        assertEq(history.count(), 1);
    }

    function test_record_newEpochStartsAtClosingStake() public {
        history.record(1, 50);
        history.record(3, 20); // epoch 3 opened at 50, so its peak is 50
        history.record(3, 40);
        assertEq(history.peakAt(1), 50);
        assertEq(history.peakAt(2), 50);
        assertEq(history.peakAt(3), 50);
        assertEq(history.peakAt(4), 40);
        history.record(7, 90);
        assertEq(history.peakAt(7), 90);
        assertEq(history.peakAt(5), 40);
        assertEq(history.peakAt(0), 0);
        assertEq(history.count(), 3);
    }

    function test_record_overflowReverts() public {
        vm.expectRevert();
        this.recordExternal(1, uint256(type(uint104).max) + 1);
    }

    function recordExternal(uint256 epoch, uint256 stakedWei) external {
        history.record(epoch, stakedWei);
    }

    /// @dev Against a brute-force model: the peak of every epoch equals the max of its opening and every value set in it.
    function testFuzz_peakAt_matchesModel(uint256 seed) public {
        uint256[12] memory peakOfEpoch;
        uint256 stakeWei;
        uint256 epoch;
        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 nextEpoch = epoch + (r % 3 == 0 ? 1 + (r >> 8) % 2 : 0);
            if (nextEpoch >= 12) break;
            for (uint256 e = epoch + 1; e <= nextEpoch; ++e) {
                peakOfEpoch[e] = stakeWei;
            }
            epoch = nextEpoch;
            stakeWei = (r >> 16) % 1000;
            history.record(epoch, stakeWei);
            if (stakeWei > peakOfEpoch[epoch]) peakOfEpoch[epoch] = stakeWei;
        }
        for (uint256 e = epoch + 1; e < 12; ++e) {
            peakOfEpoch[e] = stakeWei;
        }
        for (uint256 e; e < 12; ++e) {
            assertEq(history.peakAt(e), peakOfEpoch[e]);
        }
    }
}
