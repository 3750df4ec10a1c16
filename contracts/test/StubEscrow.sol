// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title StubEscrow
/// @notice TEST DOUBLE for the fleet register's escrow as the offering sees it: the price of the fleet it holds the
///         raise for (`capexTotal`, set by anyone) and `fundRaise`, which takes the stablecoin and counts it. Lets the
///         offering's tests run without a register. Never deploy it for a deal.
contract StubEscrow {
    using SafeERC20 for IERC20;

    IERC20 private immutable _stablecoin;
    uint256 public capexTotal;
    uint256 public escrowed;

    constructor(address stablecoin_, uint256 capex) {
        _stablecoin = IERC20(stablecoin_);
        capexTotal = capex;
    }

    function setCapexTotal(uint256 capex) external {
        capexTotal = capex;
    }

    function fundRaise(uint256 amount) external {
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
        escrowed += amount;
    }
}
