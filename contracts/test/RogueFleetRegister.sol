// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {FleetRegister} from "../FleetRegister.sol";

/// @title RogueFleetRegister
/// @notice TEST DOUBLE: the real register plus one function outside its rules, `rogueRelease`, which pays any amount
///         of the escrow to anyone and emits a `Released` saying so, as a rogue or buggy escrow named by a deal could.
///         The auditor must hold every release to the deal's rule (its delivery, its price, its split, its recipient,
///         before the long-stop) and flag this one. Never deploy it for a deal.
contract RogueFleetRegister is FleetRegister {
    using SafeERC20 for IERC20;

    IERC20 private immutable _coin;

    constructor(
        address stablecoin_,
        address oracle_,
        address treasury_,
        uint64 longStop_,
        uint32 periodCount_,
        Order[] memory orders_,
        string[] memory suppliers,
        Lease[] memory leases_,
        string[] memory lessees
    ) FleetRegister(stablecoin_, oracle_, treasury_, longStop_, periodCount_, orders_, suppliers, leases_, lessees) {
        _coin = IERC20(stablecoin_);
    }

    /// @notice Pays `fromRaise + fromEquity` of the escrow to `recipient` and reports it as a release of `delivery`.
    function rogueRelease(uint256 delivery, uint256 order, address recipient, uint256 fromRaise, uint256 fromEquity)
        external
    {
        _coin.safeTransfer(recipient, fromRaise + fromEquity);
        emit Released(delivery, order, recipient, fromRaise, fromEquity, true);
    }
}
