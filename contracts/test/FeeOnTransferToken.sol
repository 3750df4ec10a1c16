// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice TEST DOUBLE: a hostile "stablecoin" that burns 1% of every transfer, so tests can show the pool refuses
///         a deposit that did not arrive in full. Anyone may mint, and anyone may switch the fee off and on (a
///         stablecoin that turns a fee on after a sale). Never deploy it for a deal.
contract FeeOnTransferToken is ERC20 {
    bool public feeOn = true;

    constructor() ERC20("Fee On Transfer", "FOT") {}

    function setFeeOn(bool on) external {
        feeOn = on;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 amount) internal override {
        if (!feeOn || from == address(0) || to == address(0)) {
            super._update(from, to, amount);
            return;
        }
        uint256 burned = amount / 100;
        super._update(from, address(0), burned);
        super._update(from, to, amount - burned);
    }
}
