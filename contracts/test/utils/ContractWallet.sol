// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ContractWallet
/// @notice A minimal smart-contract wallet for tests: it signs through its owner (EIP-1271) and executes the
///         owner's calls, so TypeScript tests can check that wallet sign-in accepts contract wallets.
contract ContractWallet {
    error ContractWalletNotOwner(address caller);
    error ContractWalletCallFailed(bytes returnData);

    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice EIP-1271: valid when the owner signed `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError error_,) = ECDSA.tryRecover(hash, signature);
        return error_ == ECDSA.RecoverError.NoError && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }

    /// @notice Calls `target` with `data` on the owner's behalf.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert ContractWalletNotOwner(msg.sender);
        (bool ok, bytes memory returnData) = target.call(data);
        if (!ok) revert ContractWalletCallFailed(returnData);
        return returnData;
    }
}
