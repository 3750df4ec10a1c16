// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RevenueOracle} from "../RevenueOracle.sol";
import {IFleetRegister} from "../interfaces/IFleetRegister.sol";

/// @title LaxRevenueOracle
/// @notice TEST DOUBLE: the real oracle without its FX rule and its tape rules, so a quorum can put a report on-chain
///         whose revenue is not its source revenue at its rate, or whose tape is not the one it signed, bills another
///         total or gives a lease servers it does not have, as a rogue or buggy oracle named by a pool could. The
///         auditor must recompute both and flag them. Never deploy it for a deal.
contract LaxRevenueOracle is RevenueOracle {
    constructor(
        address admin,
        address[] memory reporters_,
        uint256 threshold_,
        uint64 firstPeriodStart_,
        uint32 periodLength_,
        uint32 graceSeconds_,
        uint32 maxRevenueMultipleBps_,
        uint32 periodCount_
    )
        RevenueOracle(
            admin,
            reporters_,
            threshold_,
            firstPeriodStart_,
            periodLength_,
            graceSeconds_,
            maxRevenueMultipleBps_,
            periodCount_
        )
    {}

    function _checkConversion(Report calldata) internal pure override {}

    function _checkTape(Report calldata, IFleetRegister.LeaseRow[] calldata, uint256) internal override {}
}
