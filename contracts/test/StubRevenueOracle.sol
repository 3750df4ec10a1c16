// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRevenueOracle} from "../interfaces/IRevenueOracle.sol";

/// @title StubRevenueOracle
/// @notice TEST DOUBLE for the quorum-signed RevenueOracle: anyone sets a period's report. Lets the pool's tests run
///         without the oracle's signing machinery. Never deploy it for a deal.
contract StubRevenueOracle is IRevenueOracle {
    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when reading a period that has no report.
    error StubReportMissing(uint256 period);

    // ----------------------------------------------------------------------------------------------- storage
    mapping(uint256 period => Report report) private _reports;
    mapping(uint256 period => bool set) private _has;
    uint256 private _latest;
    uint32 private _lease;
    uint32 private _days;

    // ---------------------------------------------------------------------------------------------- external
    /// @notice Sets (or replaces) `period`'s report with the given revenue, in the stablecoin (source = revenue at
    ///         the rate 1e18); other fields are zero.
    function setReport(uint256 period, uint128 revenue) external {
        _reports[period] = Report(uint64(period), revenue, 0, 0, 0, bytes32(0), 0, revenue, 1e18, bytes32(0));
        _has[period] = true;
        if (period > _latest) _latest = period;
    }

    /// @notice Sets the latest period's worst arrears: lease `lease` `daysPastDue` days past due.
    function setPastDue(uint32 lease, uint32 daysPastDue) external {
        _lease = lease;
        _days = daysPastDue;
    }

    function revenueOf(uint256 period) external view returns (uint256) {
        require(_has[period], StubReportMissing(period));
        return _reports[period].revenue;
    }

    function latestPastDue() external view returns (uint256, uint256, uint256) {
        return (_latest, _lease, _days);
    }

    function hasReport(uint256 period) external view returns (bool) {
        return _has[period];
    }

    function reportOf(uint256 period) external view returns (Report memory) {
        require(_has[period], StubReportMissing(period));
        return _reports[period];
    }
}
