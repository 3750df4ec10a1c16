// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RevenueOracle} from "../RevenueOracle.sol";

/// @title LaxRevenueOracle
/// @notice TEST DOUBLE: the real oracle without its FX rule, so a quorum can put a report on-chain whose revenue is
///         not its source revenue at its rate, as a rogue or buggy oracle named by a pool could. The auditor must
///         recompute the conversion and flag it. Never deploy it for a deal.
contract LaxRevenueOracle is RevenueOracle {
    constructor(
        address admin,
        address[] memory reporters_,
        uint256 threshold_,
        uint64 firstPeriodStart_,
        uint32 periodLength_,
        uint32 graceSeconds_,
        uint32 maxRevenueMultipleBps_,
        uint256[] memory contractedRent_
    )
        RevenueOracle(
            admin,
            reporters_,
            threshold_,
            firstPeriodStart_,
            periodLength_,
            graceSeconds_,
            maxRevenueMultipleBps_,
            contractedRent_
        )
    {}

    function _checkConversion(Report calldata) internal pure override {}
}
