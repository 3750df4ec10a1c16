// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IDistributionStatus} from "./interfaces/IDistributionStatus.sol";
import {IQuorumRevenueOracle} from "./interfaces/IQuorumRevenueOracle.sol";
import {IRevenueOracle} from "./interfaces/IRevenueOracle.sol";
import {PeriodClock, PeriodClockLib} from "./libraries/PeriodClock.sol";

/// @title RevenueOracle
/// @notice Monthly cluster revenue, accepted when M of N reporters signed it under EIP-712 (domain "RevenueOracle",
///         version "1", this chain, this contract). Periods arrive strictly in order, each only after it has ended.
/// @dev The facts that bind the money are fixed at deployment: the contracted rent of every period, from the deal's
///      leases (a report must carry exactly it, and its revenue is bounded by it times `maxRevenueMultipleBps`), and
///      the deal's last period (no report after it), and when each period ends (`PeriodClock`: the deal's calendar
///      months, the pool's own clock). Each report carries a version in its signed data: 0 first, and
///      an amendment must be the next one, so a superseded report's public signatures are worthless. An amendment
///      needs a bound pool and an undistributed period. A report carries its revenue twice, in the stablecoin and in
///      the currency the cluster bills in, with the rate between them; the stablecoin figure must be the source figure
///      converted at that rate, rounded down (`fxConvertDown`), so a quorum cannot sign an inconsistent conversion.
///      Deliberately not checked: whether the figures are true (the quorum vouches for them and `dataHash` ties
///      them to the billing data); whether the rate is the market's (the quorum vouches for it too, and the auditor
///      shows it); who sends the transaction (the signatures are the authority: any relayer may).
contract RevenueOracle is IQuorumRevenueOracle, AccessControl, EIP712 {
    using EnumerableSet for EnumerableSet.AddressSet;

    // ------------------------------------------------------------------------------------------------ storage
    EnumerableSet.AddressSet private _reporters;
    uint256 private _threshold;
    uint256 private _latestPeriod;
    address private _pool;
    mapping(uint256 period => Report) private _reports;
    uint256[] private _contractedRent;

    /// @dev When each period ends, from the first start and the period length (0: calendar months).
    PeriodClock private immutable _clock;
    uint32 private immutable _graceSeconds;
    uint32 private immutable _maxRevenueMultipleBps;

    // ---------------------------------------------------------------------------------------------- constants
    /// @notice The EIP-712 type hash of `Report`.
    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(uint64 period,uint128 revenue,uint32 utilizationBps,uint32 activeServers,uint128 contractedRent,bytes32 dataHash,uint32 version,uint128 sourceRevenue,uint96 fxRate)"
    );
    /// @notice The scale of `Report.fxRate`: 1e18 is one stablecoin smallest unit per source smallest unit.
    uint256 public constant FX_RATE_SCALE = 1e18;
    uint256 private constant BPS = 10_000;
    uint256 private constant SIGNATURE_LENGTH = 85; // 20-byte signer + 65-byte (r, s, v)

    // -------------------------------------------------------------------------------------------- constructor
    constructor(
        address admin,
        address[] memory reporters_,
        uint256 threshold_,
        uint64 firstPeriodStart_,
        uint32 periodLength_,
        uint32 graceSeconds_,
        uint32 maxRevenueMultipleBps_,
        uint256[] memory contractedRent_
    ) EIP712("RevenueOracle", "1") {
        require(admin != address(0), ZeroAddress());
        require(contractedRent_.length != 0, EmptySchedule());
        _contractedRent = contractedRent_;
        require(maxRevenueMultipleBps_ != 0, InvalidConfiguration(maxRevenueMultipleBps_));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < reporters_.length; ++i) {
            _addReporter(reporters_[i]);
        }
        _setThreshold(threshold_);
        _clock = PeriodClockLib.create(firstPeriodStart_, periodLength_);
        _graceSeconds = graceSeconds_;
        _maxRevenueMultipleBps = maxRevenueMultipleBps_;
    }

    // ----------------------------------------------------------------------------------------------- external
    /// @inheritdoc IQuorumRevenueOracle
    function submit(Report calldata report, bytes[] calldata signatures) external {
        uint256 period = report.period;
        uint256 latest_ = _latestPeriod;
        require(period == 0 || period > latest_, PeriodAlreadyReported(period));
        require(period == latest_ + 1, PeriodGap(latest_ + 1, period));
        require(period <= _contractedRent.length, PeriodBeyondDeal(period, _contractedRent.length));
        require(report.version == 0, WrongVersion(period, 0, report.version));
        uint256 endsAt = _periodEnd(period);
        require(block.timestamp >= endsAt, PeriodNotEnded(period, endsAt, block.timestamp));
        _checkBounds(report);
        address[] memory signers = _verifyQuorum(report, signatures);

        _reports[period] = report;
        _latestPeriod = period;
        emit ReportSubmitted(
            period,
            report.revenue,
            report.sourceRevenue,
            report.fxRate,
            report.utilizationBps,
            report.activeServers,
            report.contractedRent,
            report.dataHash,
            signers
        );
    }

    /// @inheritdoc IQuorumRevenueOracle
    function amend(uint256 period, Report calldata report, bytes[] calldata signatures) external {
        require(period != 0 && period <= _latestPeriod, NoReport(period));
        require(report.period == period, AmendPeriodMismatch(period, report.period));
        address pool_ = _pool;
        require(pool_ != address(0), PoolNotBound());
        uint256 lastDistributed = IDistributionStatus(pool_).lastDistributedPeriod();
        require(lastDistributed < period, AmendAfterDistribution(period, lastDistributed));
        Report memory old = _reports[period];
        uint256 next = uint256(old.version) + 1;
        require(report.version == next, WrongVersion(period, next, report.version));
        require(!_sameFigures(old, report), AmendmentUnchanged(period));
        _checkBounds(report);
        address[] memory signers = _verifyQuorum(report, signatures);

        _reports[period] = report;
        emit ReportAmended(period, old, report, signers);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function bindPool(address pool_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(pool_ != address(0), ZeroAddress());
        require(_pool == address(0), PoolAlreadyBound(_pool));
        _pool = pool_;
        emit PoolBound(pool_);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function addReporter(address reporter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addReporter(reporter);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function removeReporter(address reporter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 remaining = _reporters.length();
        require(_reporters.remove(reporter), ReporterUnknown(reporter));
        unchecked {
            remaining -= 1; // cannot underflow: `reporter` was in the set, so it held at least one
        }
        require(remaining >= _threshold, InvalidThreshold(_threshold, remaining));
        emit ReporterRemoved(reporter);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function setThreshold(uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThreshold(threshold_);
    }

    /// @inheritdoc IRevenueOracle
    function hasReport(uint256 period) external view returns (bool) {
        return period != 0 && period <= _latestPeriod;
    }

    /// @inheritdoc IRevenueOracle
    function reportOf(uint256 period) external view returns (Report memory) {
        require(period != 0 && period <= _latestPeriod, NoReport(period));
        return _reports[period];
    }

    /// @inheritdoc IQuorumRevenueOracle
    function latest() external view returns (Report memory) {
        require(_latestPeriod != 0, NoReport(0));
        return _reports[_latestPeriod];
    }

    /// @inheritdoc IQuorumRevenueOracle
    function latestPeriod() external view returns (uint256) {
        return _latestPeriod;
    }

    /// @inheritdoc IQuorumRevenueOracle
    function periodEnd(uint256 period) external view returns (uint256) {
        return _periodEnd(period);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function periodEnds() external view returns (uint256[] memory ends) {
        ends = new uint256[](_contractedRent.length);
        for (uint256 i; i < ends.length; ++i) {
            ends[i] = _clock.endOf(i + 1);
        }
    }

    /// @inheritdoc IQuorumRevenueOracle
    function nextDeadline() public view returns (uint256) {
        return _periodEnd(_latestPeriod + 1) + _graceSeconds;
    }

    /// @inheritdoc IQuorumRevenueOracle
    function isOverdue() external view returns (bool) {
        return block.timestamp > nextDeadline();
    }

    /// @inheritdoc IQuorumRevenueOracle
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IQuorumRevenueOracle
    function reportDigest(Report calldata report) external view returns (bytes32) {
        return _hashTypedDataV4(_hashReportCalldata(report));
    }

    /// @inheritdoc IQuorumRevenueOracle
    function fxConvertDown(uint256 sourceAmount, uint256 fxRate) external pure returns (uint256) {
        return _fxConvertDown(sourceAmount, fxRate);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function isReporter(address account) external view returns (bool) {
        return _reporters.contains(account);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function reporters() external view returns (address[] memory) {
        return _reporters.values();
    }

    /// @inheritdoc IQuorumRevenueOracle
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IQuorumRevenueOracle
    function pool() external view returns (address) {
        return _pool;
    }

    /// @inheritdoc IQuorumRevenueOracle
    function config() external view returns (uint64, uint32, uint32, uint32) {
        return (_clock.firstStart(), _clock.periodLength(), _graceSeconds, _maxRevenueMultipleBps);
    }

    // ----------------------------------------------------------------------------------------------- internal
    function _addReporter(address reporter) internal {
        require(reporter != address(0), ZeroAddress());
        require(_reporters.add(reporter), ReporterAlreadyAdded(reporter));
        emit ReporterAdded(reporter);
    }

    function _setThreshold(uint256 threshold_) internal {
        uint256 count = _reporters.length();
        require(threshold_ != 0 && threshold_ <= count, InvalidThreshold(threshold_, count));
        uint256 old = _threshold;
        _threshold = threshold_;
        emit ThresholdChanged(old, threshold_);
    }

    function _periodEnd(uint256 period) internal view returns (uint256) {
        return _clock.endOf(period);
    }

    function _checkBounds(Report calldata report) internal view {
        uint256 scheduled = _contractedRent[report.period - 1]; // period is 1.._contractedRent.length here
        require(
            report.contractedRent == scheduled,
            ContractedRentMismatch(report.period, scheduled, report.contractedRent)
        );
        // rounded down: a report must stay at or under the bound, never ride on its rounding
        uint256 max = scheduled * _maxRevenueMultipleBps / BPS;
        require(report.revenue <= max, RevenueOutOfBounds(report.revenue, max));
        require(report.utilizationBps <= BPS, UtilizationOutOfBounds(report.utilizationBps));
        _checkConversion(report);
    }

    /// @dev The one FX rule: the stablecoin revenue is the source revenue at the report's rate, rounded down.
    ///      Virtual only so that a test double can accept what the rule refuses and the auditor be tested on it.
    function _checkConversion(Report calldata report) internal pure virtual {
        uint256 expected = _fxConvertDown(report.sourceRevenue, report.fxRate);
        require(
            report.revenue == expected,
            FxConversionMismatch(report.period, report.sourceRevenue, report.fxRate, expected, report.revenue)
        );
    }

    /// @dev Rounded down: converted revenue is never overstated. Cannot overflow for a report's fields: a uint128
    ///      times a uint96 is below 2**224.
    function _fxConvertDown(uint256 sourceAmount, uint256 fxRate) internal pure returns (uint256) {
        return sourceAmount * fxRate / FX_RATE_SCALE;
    }

    /// @dev Each signature names its signer; signers must ascend strictly, be reporters, and recover from the digest.
    function _verifyQuorum(Report calldata report, bytes[] calldata signatures)
        internal
        view
        returns (address[] memory signers)
    {
        uint256 needed = _threshold;
        require(signatures.length >= needed, QuorumNotReached(signatures.length, needed));
        bytes32 digest = _hashTypedDataV4(_hashReportCalldata(report));
        signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            bytes calldata sig = signatures[i];
            require(sig.length == SIGNATURE_LENGTH, InvalidSignature(i));
            address claimed = address(bytes20(sig[0:20]));
            require(claimed > previous, SignersNotAscending(previous, claimed));
            require(_reporters.contains(claimed), SignerNotReporter(claimed));
            (address recovered, ECDSA.RecoverError err,) =
                ECDSA.tryRecover(digest, uint8(sig[84]), bytes32(sig[20:52]), bytes32(sig[52:84]));
            require(err == ECDSA.RecoverError.NoError, InvalidSignature(i));
            require(recovered == claimed, SignerMismatch(i, claimed, recovered));
            signers[i] = claimed;
            previous = claimed;
        }
    }

    function _hashReportCalldata(Report calldata r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REPORT_TYPEHASH,
                r.period,
                r.revenue,
                r.utilizationBps,
                r.activeServers,
                r.contractedRent,
                r.dataHash,
                r.version,
                r.sourceRevenue,
                r.fxRate
            )
        );
    }

    function _sameFigures(Report memory a, Report calldata b) internal pure returns (bool) {
        return a.revenue == b.revenue && a.utilizationBps == b.utilizationBps && a.activeServers == b.activeServers
            && a.contractedRent == b.contractedRent && a.dataHash == b.dataHash && a.sourceRevenue == b.sourceRevenue
            && a.fxRate == b.fxRate;
    }

    /// @notice The contracted rent of `period` (1..N) fixed at deployment from the deal's leases.
    function contractedRentOf(uint256 period) external view returns (uint256) {
        require(period != 0 && period <= _contractedRent.length, PeriodBeyondDeal(period, _contractedRent.length));
        return _contractedRent[period - 1];
    }

    /// @notice N, the deal's last period: no report after it is accepted.
    function periodCount() external view returns (uint256) {
        return _contractedRent.length;
    }
}
