// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title EpochAllowance
/// @notice Per-account history of the peak stake in each epoch: the allowance arithmetic of DiemStaking.
/// @dev One checkpoint per epoch in which the stake changed, sorted by epoch. A checkpoint stores
///   - peakWei: the highest stake held at any moment of that epoch (the stake at its start, raised by any increase);
///   - closingWei: the stake after the last change of that epoch, which is also the stake at the start of every later
///     epoch up to the next checkpoint.
/// The peak of epoch e is therefore: the checkpoint of e if there is one, else the closingWei of the latest checkpoint
/// before e, else 0. For an epoch after the latest checkpoint this is the current stake. That is exact for every epoch
/// up to the current one; for a later epoch it would only be a projection, so DiemStaking.allowanceOf never asks.
library EpochAllowance {
    struct Checkpoint {
        uint48 epoch;
        uint104 peakWei;
        uint104 closingWei;
    }

    struct History {
        Checkpoint[] checkpoints;
    }

    /// @notice Records that the stake is now `stakedWei` during `epoch`. Epochs must be recorded in non-decreasing order.
    function record(History storage history, uint256 epoch, uint256 stakedWei) internal {
        uint104 stakedWei104 = SafeCast.toUint104(stakedWei);
        uint256 length = history.checkpoints.length;
        uint104 openingWei;
        if (length != 0) {
            Checkpoint storage last = history.checkpoints[length - 1];
            if (last.epoch == epoch) {
                if (stakedWei104 > last.peakWei) last.peakWei = stakedWei104;
                last.closingWei = stakedWei104;
                return;
            }
            // No change since `last`, so the stake at the start of `epoch` is its closing stake.
            openingWei = last.closingWei;
        }
        history.checkpoints.push(
            Checkpoint({
                epoch: SafeCast.toUint48(epoch),
                peakWei: stakedWei104 > openingWei ? stakedWei104 : openingWei,
                closingWei: stakedWei104
            })
        );
    }

    /// @notice The highest stake held at any moment of `epoch` (see the library header).
    function peakAt(History storage history, uint256 epoch) internal view returns (uint256) {
        uint256 high = history.checkpoints.length;
        if (high == 0) return 0;
        // Fast path: the latest checkpoint answers the current and every later epoch.
        Checkpoint memory last = history.checkpoints[high - 1];
        if (last.epoch <= epoch) return last.epoch == epoch ? last.peakWei : last.closingWei;
        // Binary search for the first checkpoint with epoch > `epoch` in [0, high - 1).
        uint256 low = 0;
        high -= 1;
        while (low < high) {
            // Rounds down; low + high < 2^49 since epochs fit in uint48 and there is at most one checkpoint per epoch.
            uint256 mid = (low + high) / 2;
            if (history.checkpoints[mid].epoch > epoch) high = mid;
            else low = mid + 1;
        }
        if (low == 0) return 0;
        Checkpoint memory found = history.checkpoints[low - 1];
        return found.epoch == epoch ? found.peakWei : found.closingWei;
    }

    /// @notice The number of checkpoints recorded.
    function count(History storage history) internal view returns (uint256) {
        return history.checkpoints.length;
    }
}
