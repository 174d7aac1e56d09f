// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {EpochValue} from "../../../src/libraries/EpochValue.sol";

contract EpochValueTest is Test {
    using EpochValue for EpochValue.History;

    EpochValue.History internal history;

    function test_at_emptyIsZero() public view {
        assertEq(history.at(0), 0);
        assertEq(history.at(123), 0);
        assertEq(history.latest(), 0);
        assertEq(history.count(), 0);
    }

    function test_setFrom_sameEpochReplaces() public {
        history.setFrom(5, 10);
        history.setFrom(5, 3);
        assertEq(history.at(4), 0);
        assertEq(history.at(5), 3);
        assertEq(history.at(9), 3);
        assertEq(history.latest(), 3);
        assertEq(history.count(), 1);
    }

    function test_at_pastEpochsStayExact() public {
        history.setFrom(2, 10);
        history.setFrom(4, 0);
        history.setFrom(7, 25);
        history.setFrom(8, 5);
        assertEq(history.at(1), 0);
        assertEq(history.at(2), 10);
        assertEq(history.at(3), 10);
        assertEq(history.at(4), 0);
        assertEq(history.at(6), 0);
        assertEq(history.at(7), 25);
        assertEq(history.at(8), 5);
        assertEq(history.at(100), 5);
        assertEq(history.latest(), 5);
        assertEq(history.count(), 4);
    }

    function test_setFrom_overflowReverts() public {
        vm.expectRevert();
        this.setFromExternal(1, uint256(type(uint208).max) + 1);
    }

    function setFromExternal(uint256 epoch, uint256 valueWei) external {
        history.setFrom(epoch, valueWei);
    }

    /// @dev Against a brute-force model: the value of every epoch is the last one set from it or an earlier epoch.
    function testFuzz_at_matchesModel(uint256 seed) public {
        uint256[16] memory valueOfEpoch;
        uint256 epoch;
        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            epoch += r % 3 == 0 ? (r >> 8) % 3 : 0;
            if (epoch >= 16) break;
            uint256 value = (r >> 16) % 1_000;
            history.setFrom(epoch, value);
            for (uint256 e = epoch; e < 16; ++e) {
                valueOfEpoch[e] = value;
            }
        }
        for (uint256 e; e < 16; ++e) {
            assertEq(history.at(e), valueOfEpoch[e]);
        }
    }
}
