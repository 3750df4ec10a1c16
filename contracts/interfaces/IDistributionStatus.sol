// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDistributionStatus
/// @notice What the oracle asks the pool before it allows an amendment: a distributed period's report is final.
interface IDistributionStatus {
    /// @notice The last period whose waterfall has run (0 before the first).
    function lastDistributedPeriod() external view returns (uint256);
}
