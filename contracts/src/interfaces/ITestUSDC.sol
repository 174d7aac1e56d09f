// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ITestUSDC
/// @notice A TEST stand-in for USDC on local and test chains: 6 decimals, EIP-2612 permit and EIP-3009 transfers
/// with authorization (what x402's `exact` EVM scheme signs). The owner can mint freely, so it is worth nothing.
interface ITestUSDC is IERC20 {
    /// @notice `authorizer` used (or cancelled) the authorization with `nonce`.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    /// @notice `authorizer` cancelled the authorization with `nonce` before it was used.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The authorization is valid only after `validAfter` (unix seconds).
    error TestUSDCAuthorizationNotYetValid(uint256 validAfter);
    /// @notice The authorization was valid only before `validBefore` (unix seconds).
    error TestUSDCAuthorizationExpired(uint256 validBefore);
    /// @notice `authorizer` already used or cancelled the authorization with `nonce`.
    error TestUSDCAuthorizationUsed(address authorizer, bytes32 nonce);
    /// @notice The signature is not `signer`'s over the authorization.
    error TestUSDCInvalidSignature(address signer);
    /// @notice receiveWithAuthorization must be called by the payee `payee`, not `caller`.
    error TestUSDCCallerNotPayee(address caller, address payee);

    /// @notice Mints `amount` (6 decimals) to `to`. Owner only: this is a test token.
    function mint(address to, uint256 amount) external;

    /// @notice EIP-3009: whether `authorizer` has used or cancelled the authorization with `nonce`.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);

    /// @notice EIP-3009: moves `value` from `from` to `to` with `from`'s signed authorization; anyone may submit it.
    /// @param validAfter The authorization is valid strictly after this unix time.
    /// @param validBefore The authorization is valid strictly before this unix time.
    /// @param nonce A unique 32-byte nonce chosen by `from`.
    /// @param signature `from`'s EIP-712 signature (65-byte ECDSA, or EIP-1271 for a contract wallet).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice EIP-3009 with the signature split into (v, r, s), as USDC has it.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice EIP-3009: like transferWithAuthorization, but only the payee `to` may submit it (no front-running).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice EIP-3009 receiveWithAuthorization with the signature split into (v, r, s).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice EIP-3009: `authorizer` cancels its unused authorization with `nonce`, signed by `authorizer`.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /// @notice EIP-3009 cancelAuthorization with the signature split into (v, r, s).
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
}
