// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDiemStaking} from "./interfaces/IDiemStaking.sol";
import {IPriceRegistry} from "./interfaces/IPriceRegistry.sol";

/// @title PriceRegistry
/// @notice The gateway operator anchors each price sheet's hash, and where to fetch it, for the epoch it takes effect.
/// @dev Invariants:
///   I1. The anchor of epoch e is written only while currentEpoch() < e: once e has begun it never changes, so every
///       anchored epoch has anchoredAt < epochStartsAt(e). A holder sees the sheet for e was announced before e began.
///   I2. An anchored hash is never zero: anchorOf(e).sheetHash == 0 means e was never anchored.
///   I3. anchoredAt (and anchoredBlock) is when the epoch's current hash was first anchored; a URI change alone keeps
///       it, a new hash restarts it. Every write goes through anchor() and emits SheetAnchored.
///   I4. latestAnchoredEpoch is the largest epoch ever anchored, and > deploymentEpoch when not 0 (by I1).
///   I5. Epochs are DiemStaking's: the same epochSeconds, aligned to unix 0, read once at deployment.
///   I6. Only the owner writes (handed over with Ownable2Step, where the new owner must accept); the registry holds no
///       funds and can move nothing.
contract PriceRegistry is Ownable2Step, IPriceRegistry {
    struct Anchor {
        bytes32 sheetHash;
        uint64 anchoredAt;
        uint64 anchoredBlock;
        string uri;
    }

    /// @inheritdoc IPriceRegistry
    uint256 public constant maxUriBytes = 2048;

    /// @inheritdoc IPriceRegistry
    IDiemStaking public immutable staking;
    /// @inheritdoc IPriceRegistry
    uint256 public immutable epochSeconds;
    /// @inheritdoc IPriceRegistry
    uint256 public immutable deploymentEpoch;

    /// @inheritdoc IPriceRegistry
    uint256 public latestAnchoredEpoch;

    mapping(uint256 epoch => Anchor) private _anchors;

    /// @param owner_ The gateway operator: the only address that anchors.
    /// @param staking_ The DiemStaking contract whose epochs (epochSeconds) the anchors use.
    constructor(address owner_, IDiemStaking staking_) Ownable(owner_) {
        if (address(staking_) == address(0)) revert PriceRegistryZeroAddress();
        staking = staking_;
        // DiemStaking refuses a zero epochSeconds, so the divisions below never divide by zero.
        uint256 epochSeconds_ = staking_.epochSeconds();
        epochSeconds = epochSeconds_;
        deploymentEpoch = block.timestamp / epochSeconds_;
    }

    /// @inheritdoc IPriceRegistry
    function anchor(uint256 epoch, bytes32 sheetHash, string calldata uri) external onlyOwner {
        uint256 current = currentEpoch();
        // I1: an epoch that has begun is final.
        if (epoch <= current) revert PriceRegistryEpochStarted(epoch, current);
        if (sheetHash == bytes32(0)) revert PriceRegistryZeroHash(epoch);
        uint256 uriBytes = bytes(uri).length;
        if (uriBytes == 0 || uriBytes > maxUriBytes) revert PriceRegistryUriLength(uriBytes, maxUriBytes);
        Anchor storage anchor_ = _anchors[epoch];
        bytes32 previousHash = anchor_.sheetHash;
        if (previousHash == sheetHash) {
            if (keccak256(bytes(anchor_.uri)) == keccak256(bytes(uri))) {
                revert PriceRegistryAnchorUnchanged(epoch, sheetHash);
            }
        } else {
            // I3: a new hash is a new announcement.
            anchor_.sheetHash = sheetHash;
            anchor_.anchoredAt = SafeCast.toUint64(block.timestamp);
            anchor_.anchoredBlock = SafeCast.toUint64(block.number);
        }
        anchor_.uri = uri;
        if (epoch > latestAnchoredEpoch) latestAnchoredEpoch = epoch;
        emit SheetAnchored(epoch, sheetHash, uri, previousHash);
    }

    /// @inheritdoc IPriceRegistry
    function anchorOf(uint256 epoch)
        external
        view
        returns (bytes32 sheetHash, string memory uri, uint256 anchoredAt, uint256 anchoredBlock)
    {
        Anchor storage anchor_ = _anchors[epoch];
        return (anchor_.sheetHash, anchor_.uri, anchor_.anchoredAt, anchor_.anchoredBlock);
    }

    /// @inheritdoc IPriceRegistry
    function currentEpoch() public view returns (uint256) {
        // Rounds down: an epoch starts at its first second, aligned to unix 0 (as DiemStaking.currentEpoch).
        return block.timestamp / epochSeconds;
    }

    /// @inheritdoc IPriceRegistry
    function epochStartsAt(uint256 epoch) external view returns (uint256) {
        return epoch * epochSeconds;
    }
}
