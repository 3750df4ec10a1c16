// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFleetRegister} from "./IFleetRegister.sol";

/// @title IRevenueOracle
/// @notice The cluster's monthly revenue, signed by a quorum of reporters; what the lease pool reads before it
///         distributes a period. Periods are numbered from 1 and accepted strictly in order.
/// @dev A signature is 85 bytes: the signer's address (20 bytes) followed by its 65-byte ECDSA signature (r, s, v)
///      over the EIP-712 digest of the report. Naming the signer lets the oracle tell a signature made for another
///      domain or another report (`SignerMismatch`) from one by a key that is not a reporter (`SignerNotReporter`).
interface IRevenueOracle {
    /// @notice One month of the cluster's billing, as the reporters signed it (EIP-712 type `Report`).
    /// @param period the period number (1-based)
    /// @param revenue revenue collected for the period, in the stablecoin's smallest unit
    /// @param utilizationBps average GPU utilization over the period in basis points (10000 = 100%)
    /// @param activeServers servers in service during the period
    /// @param contractedRent the rent due under the lease contracts for the period, in the stablecoin's unit
    /// @param dataHash keccak256 of the raw billing data the figures were computed from
    /// @param version 0 for the period's first report, then one more for each amendment: signatures of a
    ///        superseded report can never be submitted again
    /// @param sourceRevenue the same revenue in the currency the cluster bills in, in that currency's units scaled
    ///        by the stablecoin's decimals (10^-6 RMB for a 6-decimal stablecoin); the revenue itself when the deal
    ///        has no other source currency
    /// @param fxRate the rate the revenue was converted at: stablecoin smallest units per source smallest unit,
    ///        scaled by 1e18 (`FX_RATE_SCALE`); 1e18 when the source is the stablecoin. The rule is
    ///        `revenue == sourceRevenue * fxRate / 1e18`, rounded down
    /// @param tapeHash the EIP-712 encoding of the period's lease tape (`LeaseRow[] tape` in the signed type: the
    ///        keccak256 of its rows' struct hashes, concatenated); the rows themselves are in `LeaseTape`
    /// @dev `sourceRevenue` and `fxRate` come after `version` so that the three share one storage slot.
    struct Report {
        uint64 period;
        uint128 revenue;
        uint32 utilizationBps;
        uint32 activeServers;
        uint128 contractedRent;
        bytes32 dataHash;
        uint32 version;
        uint128 sourceRevenue;
        uint96 fxRate;
        bytes32 tapeHash;
    }

    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when an address that must be set is zero.
    error ZeroAddress();
    /// @notice Thrown when a report's contracted rent is not the rent of the servers the register's leases in force
    ///         get in the period.
    error ContractedRentMismatch(uint256 period, uint256 scheduled, uint256 reported);
    /// @notice Thrown when a report is for a period after the deal's last.
    error PeriodBeyondDeal(uint256 period, uint256 periodCount);
    /// @notice Thrown when a report's version is not the next one for its period.
    error WrongVersion(uint256 period, uint256 expected, uint256 got);
    /// @notice Thrown when amending while no pool is bound: nothing would stop a paid period being rewritten.
    error PoolNotBound();
    /// @notice Thrown when the deal's period count given at deployment is zero.
    error EmptySchedule();
    /// @notice Thrown when a report arrives before the fleet register is bound, or an attestation from another.
    error RegisterNotBound();
    /// @notice Thrown when the register is bound a second time.
    error RegisterAlreadyBound(address register);
    /// @notice Thrown when someone other than the bound register asks for an attestation's quorum.
    error NotRegister(address caller);
    /// @notice Thrown when a report's tape hash is not its tape's.
    error TapeHashMismatch(uint256 period, bytes32 computed, bytes32 reported);
    /// @notice Thrown when a report's source revenue is not its tape's billed total.
    error RevenueNotTapeTotal(uint256 period, uint256 tapeBilled, uint256 sourceRevenue);
    /// @notice Thrown when a report's active servers exceed the servers accepted before the period's end.
    error ActiveServersAboveFleet(uint256 period, uint256 activeServers, uint256 fleet);
    /// @notice Thrown when a report's active servers are not its tape's servers.
    error TapeServersMismatch(uint256 period, uint256 tapeServers, uint256 activeServers);
    /// @notice Thrown when the threshold would be zero or above the number of reporters.
    error InvalidThreshold(uint256 threshold, uint256 reporters);
    /// @notice Thrown when the revenue multiple given at deployment is zero.
    error InvalidConfiguration(uint256 maxRevenueMultipleBps);
    /// @notice Thrown when adding an address that already is a reporter.
    error ReporterAlreadyAdded(address reporter);
    /// @notice Thrown when removing an address that is not a reporter.
    error ReporterUnknown(address reporter);
    /// @notice Thrown when a signature names a signer that is not an authorised reporter.
    error SignerNotReporter(address signer);
    /// @notice Thrown when signers are not strictly ascending (a repeated signer included).
    error SignersNotAscending(address previous, address next);
    /// @notice Thrown when fewer valid reporter signatures than the threshold are given.
    error QuorumNotReached(uint256 got, uint256 threshold);
    /// @notice Thrown when signature `index` is malformed (length, `s` or `v` out of range) and recovers no key.
    error InvalidSignature(uint256 index);
    /// @notice Thrown when signature `index` recovers another key than the signer it names: it was made for another
    ///         chain, another oracle or other report data.
    error SignerMismatch(uint256 index, address claimed, address recovered);
    /// @notice Thrown when a report skips a period (or is period 0): `expected` is the only period accepted now.
    error PeriodGap(uint256 expected, uint256 got);
    /// @notice Thrown when a period already has a report (a replay); corrections go through `amend`.
    error PeriodAlreadyReported(uint256 period);
    /// @notice Thrown when a period is reported before it has ended.
    error PeriodNotEnded(uint256 period, uint256 periodEnd, uint256 nowTime);
    /// @notice Thrown when revenue exceeds the contracted rent times the configured multiple.
    error RevenueOutOfBounds(uint256 revenue, uint256 max);
    /// @notice Thrown when a report's revenue is not its source revenue converted at its rate, rounded down.
    error FxConversionMismatch(uint256 period, uint256 sourceRevenue, uint256 fxRate, uint256 expected,
        uint256 reported);
    /// @notice Thrown when utilization is above 100% (10000 bps).
    error UtilizationOutOfBounds(uint256 utilizationBps);
    /// @notice Thrown when a period asked for has no report.
    error NoReport(uint256 period);
    /// @notice Thrown when an amendment's report is for another period than the one named.
    error AmendPeriodMismatch(uint256 period, uint256 reportPeriod);
    /// @notice Thrown when an amendment would change nothing.
    error AmendmentUnchanged(uint256 period);
    /// @notice Thrown when the pool has already distributed the period: its report is final.
    error AmendAfterDistribution(uint256 period, uint256 lastDistributed);
    /// @notice Thrown when the pool is bound a second time.
    error PoolAlreadyBound(address pool);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when `reporter` joins the reporter set.
    event ReporterAdded(address indexed reporter);
    /// @notice Emitted when `reporter` leaves the reporter set.
    event ReporterRemoved(address indexed reporter);
    /// @notice Emitted when the signature threshold changes.
    event ThresholdChanged(uint256 oldThreshold, uint256 newThreshold);
    /// @notice Emitted once, when the lease pool whose distributions freeze reports is bound.
    event PoolBound(address indexed pool);
    /// @notice Emitted once, when the fleet register whose leases and fleet bound the reports is bound.
    event RegisterBound(address indexed register);
    /// @notice Emitted when a period's report is accepted; every field, so history alone replays it.
    event ReportSubmitted(uint256 indexed period, Report report, address[] signers);
    /// @notice The lease tape of a period's report (`version` 0, or the amendment's), every row.
    event LeaseTape(uint256 indexed period, uint256 version, IFleetRegister.LeaseRow[] rows);
    /// @notice Emitted when an undistributed period's report is replaced; both reports in full.
    event ReportAmended(uint256 indexed period, Report oldReport, Report newReport, address[] signers);

    // ---------------------------------------------------------------------------------------------- external
    /// @notice True once a report for `period` has been accepted.
    function hasReport(uint256 period) external view returns (bool);

    /// @notice The accepted report for `period` (the latest amendment, if any); reverts when there is none.
    function reportOf(uint256 period) external view returns (Report memory);

    /// @notice The revenue of `period`'s accepted report (one storage read); reverts when there is none.
    function revenueOf(uint256 period) external view returns (uint256);

    /// @notice The latest reported period's lease most days past due and its days (0, 0, 0 before any report).
    function latestPastDue() external view returns (uint256 period, uint256 lease, uint256 daysPastDue);
}
