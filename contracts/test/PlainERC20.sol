// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainERC20
/// @notice The gas baseline: an unmodified OpenZeppelin ERC-20 with 6 decimals, its supply minted to the deployer.
/// @dev Test-only; benchmarks compare a compliant TrancheToken transfer against this one's.
contract PlainERC20 is ERC20 {
    // ------------------------------------------------------------------------------------------- constructor
    constructor(uint256 supply) ERC20("Plain", "PLN") {
        _mint(msg.sender, supply);
    }

    // ---------------------------------------------------------------------------------------------- external
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
