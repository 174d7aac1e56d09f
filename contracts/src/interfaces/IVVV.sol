// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IVVV
/// @notice The perdiem value token: an ERC20 with ERC20Permit. Its genesis supply is minted at deploy; afterwards only
/// the emissions minter (StakedVVV) can mint. The owner's only power is to name that minter, exactly once.
interface IVVV is IERC20 {
    /// @notice The emissions minter has been set (once, for good).
    event EmissionsMinterSet(address indexed minter);

    /// @notice `caller` is not the emissions minter.
    error VVVNotEmissionsMinter(address caller);
    /// @notice The emissions minter is already set to `minter`; it can be set only once.
    error VVVEmissionsMinterAlreadySet(address minter);
    /// @notice A zero address where an account is required.
    error VVVZeroAddress();

    /// @notice The only address allowed to mint; zero until set.
    function emissionsMinter() external view returns (address);

    /// @notice Sets the emissions minter. Owner only, callable once.
    /// @param minter The StakedVVV contract.
    function setEmissionsMinter(address minter) external;

    /// @notice Mints `amountWei` VVV to `to`. Emissions minter only.
    function mint(address to, uint256 amountWei) external;
}
