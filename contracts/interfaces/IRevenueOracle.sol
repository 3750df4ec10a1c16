// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRevenueOracle
/// @notice The cluster's monthly revenue, signed by a quorum of reporters; what the lease pool reads before it
///         distributes a period. Periods are numbered from 1 and accepted strictly in order.
interface IRevenueOracle {
    /// @notice One month of the cluster's billing, as the reporters signed it (EIP-712 type `Report`).
    /// @param period the period number (1-based)
    /// @param revenue revenue collected for the period, in the stablecoin's smallest unit
    /// @param utilizationBps average GPU utilization over the period in basis points (10000 = 100%)
    /// @param activeServers servers in service during the period
    /// @param contractedRent the rent due under the lease contracts for the period, in the stablecoin's unit
    /// @param dataHash keccak256 of the raw billing data the figures were computed from
    struct Report {
        uint64 period;
        uint128 revenue;
        uint32 utilizationBps;
        uint32 activeServers;
        uint128 contractedRent;
        bytes32 dataHash;
    }

    /// @notice True once a report for `period` has been accepted.
    function hasReport(uint256 period) external view returns (bool);

    /// @notice The accepted report for `period` (the latest amendment, if any); reverts when there is none.
    function reportOf(uint256 period) external view returns (Report memory);
}
