// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title EpochValue
/// @notice Per-account history of a value that changes only at epoch boundaries: DiemStaking's allocated-out and
///         allocated-in totals.
/// @dev One checkpoint per epoch from which the value changed, sorted by epoch. A checkpoint {fromEpoch, valueWei}
/// says: from fromEpoch on (until the next checkpoint) the value is valueWei. The value in epoch e is therefore the
/// valueWei of the latest checkpoint with fromEpoch <= e, or 0 before the first one. DiemStaking only ever schedules a
/// value from the next epoch, so every epoch up to the current one is fixed once reached and stays exact afterwards.
library EpochValue {
    struct Checkpoint {
        uint48 fromEpoch;
        uint208 valueWei;
    }

    struct History {
        Checkpoint[] checkpoints;
    }

    /// @notice The value is `valueWei` from `fromEpoch` on. `fromEpoch` must not precede the latest checkpoint's; the
    /// same epoch again replaces that checkpoint's value.
    function setFrom(History storage history, uint256 fromEpoch, uint256 valueWei) internal {
        uint208 valueWei208 = SafeCast.toUint208(valueWei);
        uint256 length = history.checkpoints.length;
        if (length != 0) {
            Checkpoint storage last = history.checkpoints[length - 1];
            if (last.fromEpoch == fromEpoch) {
                last.valueWei = valueWei208;
                return;
            }
        }
        history.checkpoints.push(Checkpoint({fromEpoch: SafeCast.toUint48(fromEpoch), valueWei: valueWei208}));
    }

    /// @notice The value in `epoch`: that of the latest checkpoint with fromEpoch <= `epoch`, or 0 before the first.
    function at(History storage history, uint256 epoch) internal view returns (uint256) {
        uint256 high = history.checkpoints.length;
        if (high == 0) return 0;
        // Fast path: the latest checkpoint answers every epoch from its own on.
        Checkpoint memory last = history.checkpoints[high - 1];
        if (last.fromEpoch <= epoch) return last.valueWei;
        // Binary search for the first checkpoint with fromEpoch > `epoch` in [0, high - 1).
        uint256 low = 0;
        high -= 1;
        while (low < high) {
            // Rounds down; low + high < 2^49 since epochs fit in uint48 and there is at most one checkpoint per epoch.
            uint256 mid = (low + high) / 2;
            if (history.checkpoints[mid].fromEpoch > epoch) high = mid;
            else low = mid + 1;
        }
        return low == 0 ? 0 : history.checkpoints[low - 1].valueWei;
    }

    /// @notice The latest value set, whatever epoch it takes effect from (0 when nothing was set).
    function latest(History storage history) internal view returns (uint256) {
        uint256 length = history.checkpoints.length;
        return length == 0 ? 0 : history.checkpoints[length - 1].valueWei;
    }

    /// @notice The number of checkpoints recorded.
    function count(History storage history) internal view returns (uint256) {
        return history.checkpoints.length;
    }
}
