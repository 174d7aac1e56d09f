// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IDiem
/// @notice The perdiem compute token: a freely transferable ERC20 with ERC20Permit. Only the minter (StakedVVV) can
/// mint or burn it. The owner's only power is to name that minter, exactly once.
interface IDiem is IERC20 {
    /// @notice The minter has been set (once, for good).
    event MinterSet(address indexed minter);

    /// @notice `caller` is not the minter.
    error DiemNotMinter(address caller);
    /// @notice The minter is already set to `minter`; it can be set only once.
    error DiemMinterAlreadySet(address minter);
    /// @notice A zero address where an account is required.
    error DiemZeroAddress();

    /// @notice The only address allowed to mint and burn; zero until set.
    function minter() external view returns (address);

    /// @notice Sets the minter. Owner only, callable once.
    /// @param minter_ The StakedVVV contract.
    function setMinter(address minter_) external;

    /// @notice Mints `amountWei` DIEM to `to`. Minter only.
    function mint(address to, uint256 amountWei) external;

    /// @notice Burns `amountWei` DIEM held by `from`. Minter only; StakedVVV only ever burns the caller's own DIEM.
    function burn(address from, uint256 amountWei) external;
}
