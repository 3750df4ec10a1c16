// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFleetRegister} from "./IFleetRegister.sol";
import {IRevenueOracle} from "./IRevenueOracle.sol";

/// @title IQuorumRevenueOracle
/// @notice The full surface of the M-of-N reporter oracle: submission, amendment, reporter management and the
///         calendar views. The pool only needs `IRevenueOracle`; the oracle service and the auditor use this.
interface IQuorumRevenueOracle is IRevenueOracle {
    // ---------------------------------------------------------------------------------------------- external
    /// @notice Accepts the report of period `latestPeriod() + 1` once that period has ended, signed by at least
    ///         `threshold()` distinct reporters in ascending signer order, whose revenue is its source revenue
    ///         converted at its rate (`fxConvertDown`).
    ///         The report's tape (one row per lease of the register, in lease order) must hash to its `tapeHash`,
    ///         bill its source revenue and hold its active servers, none beyond what the register allows.
    function submit(Report calldata report, IFleetRegister.LeaseRow[] calldata tape, bytes[] calldata signatures)
        external;

    /// @notice Replaces the report of an already reported `period` that the pool has not distributed yet; same
    ///         quorum and bounds as `submit`. Without a bound pool nothing has been distributed.
    function amend(
        uint256 period,
        Report calldata report,
        IFleetRegister.LeaseRow[] calldata tape,
        bytes[] calldata signatures
    ) external;

    /// @notice Binds the fleet register whose leases and fleet bound the reports; once, by the admin.
    function bindRegister(address register) external;

    /// @notice The signers of an attestation of the register (`structHash`, its EIP-712 struct hash, signed in this
    ///         oracle's domain) when they are a quorum of reporters; reverts otherwise, and for any caller but the
    ///         bound register.
    function verifyAttestation(bytes32 structHash, bytes[] calldata signatures)
        external
        view
        returns (address[] memory signers);

    /// @notice The EIP-712 digest of a register's attestation with struct hash `structHash` in this domain.
    function attestationDigest(bytes32 structHash) external view returns (bytes32);

    /// @notice The EIP-712 encoding of a tape (`LeaseRow[]`): what a report's `tapeHash` must be.
    function tapeHash(IFleetRegister.LeaseRow[] calldata tape) external pure returns (bytes32);

    /// @notice The register bound by `bindRegister` (zero before).
    function register() external view returns (address);

    /// @notice Binds the pool asked before amendments; once, by the admin.
    function bindPool(address pool) external;

    /// @notice Adds a reporter; admin only.
    function addReporter(address reporter) external;

    /// @notice Removes a reporter; admin only; the threshold must stay reachable.
    function removeReporter(address reporter) external;

    /// @notice Sets the signature threshold; admin only; 1 <= threshold <= reporters.
    function setThreshold(uint256 threshold) external;

    /// @notice The report of the latest period; reverts with `NoReport(0)` before the first.
    function latest() external view returns (Report memory);

    /// @notice The latest reported period (0 before the first).
    function latestPeriod() external view returns (uint256);

    /// @notice Timestamp at which `period` ends (and may be reported): the deal's calendar, as the pool counts it.
    function periodEnd(uint256 period) external view returns (uint256);

    /// @notice The ends of periods 1..N, in order: what `periodEnd` returns for each.
    function periodEnds() external view returns (uint256[] memory);

    /// @notice Deadline of the next report: end of period `latestPeriod() + 1` plus the grace.
    function nextDeadline() external view returns (uint256);

    /// @notice True once `nextDeadline()` has passed without the next report.
    function isOverdue() external view returns (bool);

    /// @notice The EIP-712 domain separator the reporters sign under.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 digest of `report` under this oracle's domain.
    function reportDigest(Report calldata report) external view returns (bytes32);

    /// @notice `sourceAmount` of the source currency in the stablecoin at `fxRate` (stablecoin smallest units per
    ///         source smallest unit, times 1e18), rounded down: what a report's revenue must be.
    function fxConvertDown(uint256 sourceAmount, uint256 fxRate) external pure returns (uint256);

    /// @notice Whether `account` is a reporter.
    function isReporter(address account) external view returns (bool);

    /// @notice The reporters, in no particular order.
    function reporters() external view returns (address[] memory);

    /// @notice Signatures needed for a report.
    function threshold() external view returns (uint256);

    /// @notice The pool bound by `bindPool` (zero before).
    function pool() external view returns (address);

    /// @notice The deployment's calendar and bounds: first period start, period length (0: calendar months, see
    ///         `PeriodClockLib`), grace, revenue multiple.
    function config()
        external
        view
        returns (uint64 firstPeriodStart, uint32 periodLength, uint32 graceSeconds, uint32 maxRevenueMultipleBps);
}
