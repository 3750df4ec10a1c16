// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IFleetRegister} from "./interfaces/IFleetRegister.sol";
import {IDistributionStatus} from "./interfaces/IDistributionStatus.sol";
import {IQuorumRevenueOracle} from "./interfaces/IQuorumRevenueOracle.sol";
import {IRevenueOracle} from "./interfaces/IRevenueOracle.sol";
import {PeriodClock, PeriodClockLib} from "./libraries/PeriodClock.sol";

/// @title RevenueOracle
/// @notice Monthly cluster revenue, accepted when M of N reporters signed it under EIP-712 (domain "RevenueOracle",
///         version "1", this chain, this contract). Periods arrive strictly in order, each only after it has ended.
/// @dev The facts that bind the money: the deal's last period (no report after it) and when each period ends
///      (`PeriodClock`: the deal's calendar months, the pool's own clock), fixed at deployment; and the fleet register
///      (`IFleetRegister`, bound once): each report carries its lease tape, one row per lease of the register, which
///      must hash to the report's signed `tapeHash`, bill exactly its source revenue, hold exactly its active servers
///      (never more than the servers accepted before the period ended) and give no lease more servers than the
///      register allows it; its contracted rent must be the rent of those servers, and its revenue is bounded by it
///      times `maxRevenueMultipleBps`. The reporters also attest the register's deliveries and lease changes in this
///      domain: the oracle checks their quorum for the register (`verifyAttestation`). Each report carries a
///      version in its signed data: 0 first, and
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
    IFleetRegister private _register;
    /// @dev The lease most days past due in each period's accepted tape, and its days (only when some are).
    mapping(uint256 period => PastDue) private _pastDue;

    struct PastDue {
        uint32 lease;
        uint32 daysPastDue;
    }

    /// @dev When each period ends, from the first start and the period length (0: calendar months).
    PeriodClock private immutable _clock;
    uint32 private immutable _periodCount;
    uint32 private immutable _graceSeconds;
    uint32 private immutable _maxRevenueMultipleBps;

    // ---------------------------------------------------------------------------------------------- constants
    /// @notice The EIP-712 type hash of `Report`.
    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(uint64 period,uint128 revenue,uint32 utilizationBps,uint32 activeServers,uint128 contractedRent,bytes32 dataHash,uint32 version,uint128 sourceRevenue,uint96 fxRate,LeaseRow[] tape)LeaseRow(uint32 lease,uint32 servers,uint128 billed,uint128 collected,uint32 daysPastDue)"
    );
    /// @notice The EIP-712 type hash of `LeaseRow`, a row of a report's tape.
    bytes32 public constant LEASE_ROW_TYPEHASH =
        keccak256("LeaseRow(uint32 lease,uint32 servers,uint128 billed,uint128 collected,uint32 daysPastDue)");
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
        uint32 periodCount_
    ) EIP712("RevenueOracle", "1") {
        require(admin != address(0), ZeroAddress());
        require(periodCount_ != 0, EmptySchedule());
        _periodCount = periodCount_;
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
    function submit(Report calldata report, IFleetRegister.LeaseRow[] calldata tape, bytes[] calldata signatures)
        external
    {
        uint256 period = report.period;
        uint256 latest_ = _latestPeriod;
        require(period == 0 || period > latest_, PeriodAlreadyReported(period));
        require(period == latest_ + 1, PeriodGap(latest_ + 1, period));
        require(period <= _periodCount, PeriodBeyondDeal(period, _periodCount));
        require(report.version == 0, WrongVersion(period, 0, report.version));
        uint256 endsAt = _periodEnd(period);
        require(block.timestamp >= endsAt, PeriodNotEnded(period, endsAt, block.timestamp));
        _checkTape(report, tape, endsAt);
        _checkBounds(report);
        address[] memory signers = _verifyQuorum(_hashTypedDataV4(_hashReportCalldata(report)), signatures);

        _reports[period] = report;
        _latestPeriod = period;
        emit ReportSubmitted(period, report, signers);
        emit LeaseTape(period, 0, tape);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function amend(
        uint256 period,
        Report calldata report,
        IFleetRegister.LeaseRow[] calldata tape,
        bytes[] calldata signatures
    ) external {
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
        _checkTape(report, tape, _periodEnd(period));
        _checkBounds(report);
        address[] memory signers = _verifyQuorum(_hashTypedDataV4(_hashReportCalldata(report)), signatures);

        _reports[period] = report;
        emit ReportAmended(period, old, report, signers);
        emit LeaseTape(period, report.version, tape);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function bindPool(address pool_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(pool_ != address(0), ZeroAddress());
        require(_pool == address(0), PoolAlreadyBound(_pool));
        _pool = pool_;
        emit PoolBound(pool_);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function bindRegister(address register_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(register_ != address(0), ZeroAddress());
        require(address(_register) == address(0), RegisterAlreadyBound(address(_register)));
        _register = IFleetRegister(register_);
        emit RegisterBound(register_);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function verifyAttestation(bytes32 structHash, bytes[] calldata signatures)
        external
        view
        returns (address[] memory)
    {
        require(msg.sender == address(_register) && msg.sender != address(0), NotRegister(msg.sender));
        return _verifyQuorum(_hashTypedDataV4(structHash), signatures);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function attestationDigest(bytes32 structHash) external view returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function tapeHash(IFleetRegister.LeaseRow[] calldata tape) external pure returns (bytes32) {
        return _hashTape(tape);
    }

    /// @inheritdoc IQuorumRevenueOracle
    function register() external view returns (address) {
        return address(_register);
    }

    /// @inheritdoc IRevenueOracle
    function revenueOf(uint256 period) external view returns (uint256) {
        require(period != 0 && period <= _latestPeriod, NoReport(period));
        return _reports[period].revenue;
    }

    /// @inheritdoc IRevenueOracle
    function latestPastDue() external view returns (uint256 period, uint256 lease, uint256 daysPastDue) {
        period = _latestPeriod;
        PastDue memory p = _pastDue[period];
        return (period, p.lease, p.daysPastDue);
    }

    /// @notice The lease most days past due in `period`'s accepted tape and its days (0, 0 when none is).
    function pastDueOf(uint256 period) external view returns (uint256 lease, uint256 daysPastDue) {
        PastDue memory p = _pastDue[period];
        return (p.lease, p.daysPastDue);
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
        ends = new uint256[](_periodCount);
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

    /// @dev The tape against the register (its rows in lease order, none above its lease's servers), the report
    ///      against the tape (its hash, its billed total, its servers) and the fleet; records the worst arrears.
    ///      Virtual only so that a test double can accept a tape the rules refuse and the auditor be tested on it.
    function _checkTape(Report calldata report, IFleetRegister.LeaseRow[] calldata tape, uint256 periodEnd)
        internal
        virtual
    {
        IFleetRegister register_ = _register;
        require(address(register_) != address(0), RegisterNotBound());
        uint256 period = report.period;
        IFleetRegister.TapeTotals memory t = register_.tapeTotals(period, periodEnd, tape);
        bytes32 computed = _hashTape(tape);
        require(report.tapeHash == computed, TapeHashMismatch(period, computed, report.tapeHash));
        require(report.activeServers <= t.fleet, ActiveServersAboveFleet(period, report.activeServers, t.fleet));
        require(report.activeServers == t.servers, TapeServersMismatch(period, t.servers, report.activeServers));
        require(report.sourceRevenue == t.billed, RevenueNotTapeTotal(period, t.billed, report.sourceRevenue));
        require(
            report.contractedRent == t.contractedRent,
            ContractedRentMismatch(period, t.contractedRent, report.contractedRent)
        );
        if (t.worstDaysPastDue != 0 || _pastDue[period].daysPastDue != 0) {
            _pastDue[period] = PastDue(uint32(t.worstLease), uint32(t.worstDaysPastDue)); // row fields are uint32
        }
    }

    function _checkBounds(Report calldata report) internal view {
        // rounded down: a report must stay at or under the bound, never ride on its rounding
        uint256 max = uint256(report.contractedRent) * _maxRevenueMultipleBps / BPS;
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
    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures)
        internal
        view
        returns (address[] memory signers)
    {
        uint256 needed = _threshold;
        require(signatures.length >= needed, QuorumNotReached(signatures.length, needed));
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
                r.fxRate,
                r.tapeHash
            )
        );
    }

    /// @dev EIP-712's encoding of an array of structs: keccak256 of the rows' struct hashes, concatenated.
    function _hashTape(IFleetRegister.LeaseRow[] calldata tape) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](tape.length);
        for (uint256 i; i < tape.length; ++i) {
            IFleetRegister.LeaseRow calldata r = tape[i];
            hashes[i] = keccak256(abi.encode(LEASE_ROW_TYPEHASH, r.lease, r.servers, r.billed, r.collected,
                r.daysPastDue));
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _sameFigures(Report memory a, Report calldata b) internal pure returns (bool) {
        return a.revenue == b.revenue && a.utilizationBps == b.utilizationBps && a.activeServers == b.activeServers
            && a.contractedRent == b.contractedRent && a.dataHash == b.dataHash && a.sourceRevenue == b.sourceRevenue
            && a.fxRate == b.fxRate && a.tapeHash == b.tapeHash;
    }

    /// @notice N, the deal's last period: no report after it is accepted.
    function periodCount() external view returns (uint256) {
        return _periodCount;
    }
}
