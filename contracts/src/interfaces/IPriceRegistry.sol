// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiemStaking} from "./IDiemStaking.sol";

/// @title IPriceRegistry
/// @notice Where the gateway operator announces its price sheets ahead of time: for an epoch that has not begun, the
/// keccak256 of the sheet's canonical JSON and a URI to fetch those bytes from. Epochs are DiemStaking's.
/// @dev An anchor for epoch e can be written (or replaced) only while e has not begun, so once e runs its anchor is
/// final and was made before e's first second: a holder who staked for e can check that the sheet pricing e was
/// announced before e began, and which sheet it was.
interface IPriceRegistry {
    /// @notice The sheet with hash `sheetHash`, fetched from `uri`, prices `epoch` (from its first second on, unless
    /// replaced before then). `previousHash` is the hash it replaced, or zero for the epoch's first anchor.
    event SheetAnchored(uint256 indexed epoch, bytes32 indexed sheetHash, string uri, bytes32 previousHash);

    /// @notice A zero address where the DiemStaking contract is required.
    error PriceRegistryZeroAddress();
    /// @notice `epoch` has already begun (the current epoch is `currentEpoch`): its anchor is final.
    error PriceRegistryEpochStarted(uint256 epoch, uint256 currentEpoch);
    /// @notice A zero sheet hash for `epoch`.
    error PriceRegistryZeroHash(uint256 epoch);
    /// @notice A URI of `lengthBytes` bytes: it must be 1 to `maxUriBytes` bytes long.
    error PriceRegistryUriLength(uint256 lengthBytes, uint256 maxUriBytes);
    /// @notice `epoch` is already anchored to `sheetHash` at the same URI.
    error PriceRegistryAnchorUnchanged(uint256 epoch, bytes32 sheetHash);

    /// @notice Anchors the sheet `sheetHash`, served at `uri`, for `epoch`, which must not have begun. Replaces an
    /// earlier anchor of `epoch`; a new hash restarts `anchoredAt`, a new URI for the same hash keeps it. Owner only.
    /// @param epoch The epoch the sheet takes effect in (floor(unix seconds / epochSeconds)).
    /// @param sheetHash keccak256 of the sheet's canonical JSON bytes; not zero.
    /// @param uri Where those bytes are served (e.g. https://gateway/v1/prices/sheets/0x…), 1 to maxUriBytes bytes.
    function anchor(uint256 epoch, bytes32 sheetHash, string calldata uri) external;

    /// @notice The anchor of `epoch`: zero hash, empty URI and zero times when it has none.
    /// @return sheetHash keccak256 of the sheet's canonical JSON.
    /// @return uri Where the sheet is served.
    /// @return anchoredAt The block timestamp at which this hash was first anchored for `epoch`; always before
    /// epochStartsAt(epoch).
    /// @return anchoredBlock The block number of that anchoring.
    function anchorOf(uint256 epoch)
        external
        view
        returns (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock);

    /// @notice The largest epoch ever anchored; 0 when none (epoch 0 began in 1970 and can never be anchored).
    function latestAnchoredEpoch() external view returns (uint256);

    /// @notice The epoch in which this registry was deployed. No epoch up to it can be anchored, so a sheet taking
    /// effect in it or before it predates the registry.
    function deploymentEpoch() external view returns (uint256);

    /// @notice The DiemStaking contract whose epochs this registry uses.
    function staking() external view returns (IDiemStaking);

    /// @notice Length of an epoch (DiemStaking's); epochs are aligned to unix time 0.
    function epochSeconds() external view returns (uint256);

    /// @notice block.timestamp / epochSeconds.
    function currentEpoch() external view returns (uint256);

    /// @notice The unix time at which `epoch` begins: epoch * epochSeconds.
    function epochStartsAt(uint256 epoch) external view returns (uint256);

    /// @notice The longest URI anchor accepts, in bytes.
    function maxUriBytes() external view returns (uint256);
}
