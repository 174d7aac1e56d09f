// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IVVV} from "./interfaces/IVVV.sol";

/// @title VVV
/// @notice The perdiem value token.
/// @dev Invariants:
///   I1. After construction, totalSupply grows only through mint() by the emissions minter.
///   I2. The emissions minter, once set, never changes.
///   I3. The owner cannot mint, burn or move anyone's tokens; its only power is setEmissionsMinter, once
///       (besides renouncing ownership or handing it over with Ownable2Step, where the new owner must accept).
contract VVV is ERC20, ERC20Permit, Ownable2Step, IVVV {
    /// @inheritdoc IVVV
    address public emissionsMinter;

    /// @param owner_ May set the emissions minter once.
    /// @param initialHolder Receives the genesis supply.
    /// @param initialSupplyWei The genesis supply.
    constructor(address owner_, address initialHolder, uint256 initialSupplyWei)
        ERC20("VVV", "VVV")
        ERC20Permit("VVV")
        Ownable(owner_)
    {
        if (initialHolder == address(0)) revert VVVZeroAddress();
        _mint(initialHolder, initialSupplyWei);
    }

    /// @inheritdoc IVVV
    function setEmissionsMinter(address minter) external onlyOwner {
        if (minter == address(0)) revert VVVZeroAddress();
        if (emissionsMinter != address(0)) revert VVVEmissionsMinterAlreadySet(emissionsMinter);
        emissionsMinter = minter;
        emit EmissionsMinterSet(minter);
    }

    /// @inheritdoc IVVV
    function mint(address to, uint256 amountWei) external {
        if (msg.sender != emissionsMinter) revert VVVNotEmissionsMinter(msg.sender);
        _mint(to, amountWei);
    }
}
