// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IDiem} from "./interfaces/IDiem.sol";

/// @title Diem
/// @notice The perdiem compute token. Staked in DiemStaking, each DIEM grants $1 of inference per epoch.
/// @dev Invariants:
///   I1. totalSupply changes only through mint() and burn() by the minter (StakedVVV).
///   I2. The minter, once set, never changes.
///   I3. The owner cannot mint, burn or move anyone's tokens; its only power is setMinter, once
///       (besides renouncing ownership or handing it over with Ownable2Step, where the new owner must accept).
contract Diem is ERC20, ERC20Permit, Ownable2Step, IDiem {
    /// @inheritdoc IDiem
    address public minter;

    /// @param owner_ May set the minter once.
    constructor(address owner_) ERC20("Diem", "DIEM") ERC20Permit("Diem") Ownable(owner_) {}

    /// @inheritdoc IDiem
    function setMinter(address minter_) external onlyOwner {
        if (minter_ == address(0)) revert DiemZeroAddress();
        if (minter != address(0)) revert DiemMinterAlreadySet(minter);
        minter = minter_;
        emit MinterSet(minter_);
    }

    /// @inheritdoc IDiem
    function mint(address to, uint256 amountWei) external {
        if (msg.sender != minter) revert DiemNotMinter(msg.sender);
        _mint(to, amountWei);
    }

    /// @inheritdoc IDiem
    function burn(address from, uint256 amountWei) external {
        if (msg.sender != minter) revert DiemNotMinter(msg.sender);
        _burn(from, amountWei);
    }
}
