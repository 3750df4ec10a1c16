// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Decimals18Token
/// @notice A plain OpenZeppelin ERC-20 with the default 18 decimals, its supply minted to the deployer.
/// @dev Test-only: a stablecoin whose decimals are not the test stablecoin's 6.
contract Decimals18Token is ERC20 {
    // ------------------------------------------------------------------------------------------- constructor
    constructor(uint256 supply) ERC20("Eighteen", "E18") {
        _mint(msg.sender, supply);
    }
}
