// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ILeasePool} from "./interfaces/ILeasePool.sol";
import {IDistributionStatus} from "./interfaces/IDistributionStatus.sol";
import {IRevenueOracle} from "./interfaces/IRevenueOracle.sol";
import {IFundsDistributionToken} from "./interfaces/IFundsDistributionToken.sol";
import {ITrancheToken} from "./interfaces/ITrancheToken.sol";
import {WaterfallMath} from "./libraries/WaterfallMath.sol";
import {PeriodClock, PeriodClockLib} from "./libraries/PeriodClock.sol";
import {BoundedPausable} from "./utils/BoundedPausable.sol";

/// @title LeasePool
/// @notice One deal's waterfall: the servicer deposits the period's stablecoin, and once the oracle holds the
///         period's report the pool pays, in this order: the servicing fee; senior interest (arrears first); senior
///         scheduled principal (arrears first); the reserve (DSRA) held at its target (the next periods' debt
///         service); then either the junior tranche or, when the covenant trips, senior prepayment (the cash trap).
///         A cash shortfall draws the reserve for the senior amounts; what stays unpaid becomes arrears.
/// @dev Cash trap rule: the covenant is tested on the period's coverage over its scheduled senior debt service
///      (interest on the opening balance + scheduled principal, arrears excluded), in basis points, rounded down.
///      The coverage is the rent deposited for the period up to the revenue the oracle's reporters attested for
///      it, less the servicing fee; tax refunds are left out (they are lumpy, annual and at the tax authority's
///      pace, and the sizing does not lean on them: its downside case haircuts them). When it is under
///      `cashTrapDscrBps`, or once default is declared,
///      what would have gone to junior is applied immediately as senior prepayment, reducing the outstanding
///      balance. The principal schedule is not re-sculpted: later scheduled amounts are capped at the smaller
///      balance, so the senior is simply repaid earlier.
///      Why the coverage and not the cash: the servicer chooses when cash is deposited and for which period, so a
///      test on deposits could be passed by pulling the next period's collections (or the issuer's own money)
///      forward into a weak period, paying the junior now and leaving the senior the hole. Every term of the
///      coverage is capped by a figure the servicer cannot move: the attested revenue is signed by a quorum of
///      independent reporters from the billing data for that period alone. Cash deposited above the cap, tax
///      refunds, residual value and other deposits still flow through the
///      waterfall (to arrears, the reserve, the trap or the junior) but never pass the test; cash held back only
///      lowers the period's own coverage. Collections short of the attested revenue are caught twice: the
///      coverage counts the rent actually deposited, and a shortfall over the trailing window is an event of
///      default.
///      The Python reference model `rwa/waterfall.py` computes the same legs to the unit; keep the two in step.
///      Deliberately not checked: that the oracle's reported revenue matches the cash (the difference is emitted,
///      never hidden); that the tranche tokens grant this pool their distributor role (`distribute` reverts if
///      not); the oracle's signatures (the oracle's job). Stablecoin sent to the pool other than through `deposit`
///      is not credited to any period: it stays in the pool, outside the waterfall.
///      Events of default are objective: anyone may trigger one when its condition holds on the pool's own records
///      (interest arrears over consecutive periods, a report overdue, rent collected short of the attested revenue
///      over a trailing window, a lessee in the latest report's tape past due beyond the stated days), and only the
///      trustee may declare one otherwise, or cure and waive under the rules
///      of `cureDefault` and `waiveDefault`. The issuer has no power here: the pool's admin is the deal's timelock.
///      The fleet register's long-stop settlement is the one other way money reaches the holders (`prepay`): the
///      raise its escrow did not release against delivered servers repays senior principal at once, the rest the
///      junior, so the senior never carries debt for servers that never came; every later scheduled principal
///      amount then shrinks in the proportion the balance did (rounded down; maturity settles what rounding leaves),
///      so the debt service follows the smaller debt.
///      Periods end on the deal's calendar, calendar months from `firstPeriodStart` fixed at deployment
///      (`PeriodClock`, the ends `rwa.period_clock` gives the deal); senior interest is a 30/360 monthly coupon, one
///      twelfth of the annual rate each period whatever its number of days.
contract LeasePool is ILeasePool, AccessControl, ReentrancyGuardTransient, BoundedPausable {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------------------------------------- types
    /// @dev The amounts a waterfall moves between its steps (a struct keeps the stack shallow).
    struct Flow {
        uint256 cash;
        uint256 reserve;
        uint256 balance;
    }

    /// @dev A period's deposits in one slot: all kinds, and rent alone (what the covenant and the shortfall trigger
    ///      compare with the report). 128 bits hold any stablecoin's supply.
    struct Deposits {
        uint128 total;
        uint128 rent;
    }

    /// @dev Running sums through a distributed period, for the trailing-window shortfall test.
    struct Cumulative {
        uint128 reported;
        uint128 rent;
    }

    // ----------------------------------------------------------------------------------------------- storage
    // First, so that they pack into the slot of Pausable's `_paused` (the last inherited state variable; 8 + 248 =
    // 256 bits): the pause, the flags, the pause expiry, the arrears streak, when default started and the last period
    // distributed are what `deposit` and `distribute` check first, and one cold read serves them all.
    bool private _defaulted;
    bool private _finalized;
    uint8 private _defaultTrigger;
    uint64 private _pauseEnds;
    uint32 private _arrearsStreak;
    uint64 private _defaultSince;
    uint64 private _lastDistributedPeriod;

    /// @dev Senior scheduled principal per period 1..N (a term, set at deployment). A mapping, not an array: a
    ///      period's amount is one read, with no stored length to load and check.
    mapping(uint256 period => uint256) private _principalSchedule;

    uint256 private _seniorOutstanding;
    uint256 private _reserve;
    uint256 private _interestArrears;
    uint256 private _principalArrears;
    uint256 private _undistributedDeposits;
    mapping(uint256 period => Deposits) private _deposited;
    /// @dev The tax refund the deal schedules per period (a term, set at deployment; the covenant does not count it).
    mapping(uint256 period => uint256) private _scheduledRefund;
    /// @dev Running sums through period p, kept at slot p % (shortfallWindow + 1): a ring of window + 1 entries
    ///      holds both ends of the trailing window, and a distribution rewrites a used slot instead of a new one.
    mapping(uint256 slot => Cumulative) private _cumulative;

    uint256 private _totalTrapped;
    uint256 private _totalFeesPaid;
    uint256 private _totalSeniorPaid;
    uint256 private _totalJuniorPaid;
    /// @dev Servicing fees the stablecoin refused to deliver (a blacklisted recipient): owed, paid by `payFees`.
    uint256 private _feesOwed;
    /// @dev Recovery rounds distributed after maturity (round r is period N+1+r).
    uint256 private _recoveries;
    /// @dev After the long-stop's prepayment every later scheduled principal amount is scaled by num / den (the
    ///      balance after it over the balance before), rounded down; 0 / 0 before. One slot.
    uint128 private _scheduleNum;
    uint128 private _scheduleDen;

    IERC20 private immutable _stablecoin;
    IRevenueOracle private immutable _oracle;
    address private immutable _seniorToken;
    address private immutable _juniorToken;
    address private immutable _feeRecipient;
    uint256 private immutable _seniorFace;
    /// @dev The junior units the deal issues: the junior's supply once its issuance has closed.
    uint256 private immutable _juniorFace;
    /// @dev When each period ends (`terms.firstPeriodStart` and `terms.periodLength`: calendar months for a deal).
    PeriodClock private immutable _clock;
    // The rest of the terms and the default rules, fixed at deployment: immutables, so `distribute` reads no
    // storage for them (`terms()` and `defaultRules()` put them back together).
    uint32 private immutable _periodCount;
    uint32 private immutable _seniorCouponBps;
    uint256 private immutable _servicingFeePerPeriod;
    uint32 private immutable _reservePeriods;
    uint32 private immutable _cashTrapDscrBps;
    uint32 private immutable _arrearsPeriods;
    uint32 private immutable _reportOverdueSeconds;
    uint32 private immutable _shortfallBps;
    uint32 private immutable _shortfallWindow;
    uint32 private immutable _distributionGrace;
    uint32 private immutable _pastDueDays;
    address private immutable _register;

    // --------------------------------------------------------------------------------------------- constants
    /// @notice Declares, cures and waives default; pauses for at most MAX_PAUSE.
    bytes32 public constant TRUSTEE_ROLE = keccak256("TRUSTEE_ROLE");
    /// @notice May deposit collected cash, and distributes a period first.
    bytes32 public constant SERVICER_ROLE = keccak256("SERVICER_ROLE");

    uint8 public constant TRIGGER_NONE = 0;
    uint8 public constant TRIGGER_INTEREST_ARREARS = 1;
    uint8 public constant TRIGGER_REPORT_OVERDUE = 2;
    uint8 public constant TRIGGER_COLLECTION_SHORTFALL = 3;
    uint8 public constant TRIGGER_LESSEE_PAST_DUE = 4;

    uint8 private constant _KIND_COUNT = 4;
    uint8 private constant _KIND_RENT = 0;
    uint256 private constant _BPS = 10_000;

    // ------------------------------------------------------------------------------------------- constructor
    /// @param terms_ the deal's terms
    /// @param principalSchedule senior scheduled principal per period (1..N); sums to the senior face
    /// @param refundSchedule the tax refund the deal expects per period (1..N), a term the auditor reads back
    /// @param rules the objective events of default and the servicer's window
    /// @param parties the contracts and accounts: `admin` gets DEFAULT_ADMIN_ROLE, `trustee` TRUSTEE_ROLE,
    ///        `servicer` SERVICER_ROLE
    /// @param juniorFace_ the junior units the deal issues (the junior token's supply once its issuance closed)
    constructor(
        Terms memory terms_,
        uint256[] memory principalSchedule,
        uint256[] memory refundSchedule,
        DefaultRules memory rules,
        Parties memory parties,
        uint256 juniorFace_
    ) {
        require(
            principalSchedule.length == terms_.periodCount,
            ScheduleLengthMismatch(principalSchedule.length, terms_.periodCount)
        );
        require(
            refundSchedule.length == terms_.periodCount,
            RefundScheduleLengthMismatch(refundSchedule.length, terms_.periodCount)
        );
        for (uint256 i; i < refundSchedule.length; ++i) {
            if (refundSchedule[i] != 0) _scheduledRefund[i + 1] = refundSchedule[i];
        }
        uint256 face = 0;
        for (uint256 i; i < principalSchedule.length; ++i) {
            face += principalSchedule[i];
            if (principalSchedule[i] != 0) _principalSchedule[i + 1] = principalSchedule[i];
        }
        require(
            terms_.periodCount != 0 && face != 0,
            InvalidTerms(terms_.periodCount, face)
        );
        address[9] memory addrs = [
            parties.stablecoin,
            parties.oracle,
            parties.seniorToken,
            parties.juniorToken,
            parties.admin,
            parties.servicer,
            parties.trustee,
            parties.feeRecipient,
            parties.register
        ];
        for (uint256 i; i < addrs.length; ++i) {
            require(addrs[i] != address(0), ZeroAddress(i));
        }
        require(parties.seniorToken != parties.juniorToken, SameTrancheTokens(parties.seniorToken));
        uint256 supply = IERC20(parties.seniorToken).totalSupply();
        // The tokens may be minted after the pool is deployed; what is minted must be the face.
        require(supply == 0 || supply == face, SeniorSupplyMismatch(supply, face));
        supply = IERC20(parties.juniorToken).totalSupply();
        require(supply == 0 || supply == juniorFace_, JuniorSupplyMismatch(supply, juniorFace_));

        _periodCount = terms_.periodCount;
        _seniorCouponBps = terms_.seniorCouponBps;
        _servicingFeePerPeriod = terms_.servicingFeePerPeriod;
        _reservePeriods = terms_.reservePeriods;
        _cashTrapDscrBps = terms_.cashTrapDscrBps;
        _arrearsPeriods = rules.arrearsPeriods;
        _reportOverdueSeconds = rules.reportOverdueSeconds;
        _shortfallBps = rules.shortfallBps;
        _shortfallWindow = rules.shortfallWindow;
        _distributionGrace = rules.distributionGrace;
        _pastDueDays = rules.pastDueDays;
        _register = parties.register;
        _seniorOutstanding = face;
        _seniorFace = face;
        _juniorFace = juniorFace_;
        _clock = PeriodClockLib.create(terms_.firstPeriodStart, terms_.periodLength);
        _stablecoin = IERC20(parties.stablecoin);
        _oracle = IRevenueOracle(parties.oracle);
        _seniorToken = parties.seniorToken;
        _juniorToken = parties.juniorToken;
        _feeRecipient = parties.feeRecipient;

        _grantRole(DEFAULT_ADMIN_ROLE, parties.admin);
        _grantRole(TRUSTEE_ROLE, parties.trustee);
        _grantRole(SERVICER_ROLE, parties.servicer);
    }

    // ---------------------------------------------------------------------------------------------- external
    /// @inheritdoc ILeasePool
    function deposit(uint256 period, uint256 amount, uint8 kind)
        external
        onlyRole(SERVICER_ROLE)
        whenNotPaused
        nonReentrant
    {
        require(amount != 0, ZeroDeposit(period));
        require(kind < _KIND_COUNT, UnknownDepositKind(kind));
        uint256 maturity = uint256(_periodCount) + 1;
        if (_finalized) {
            // after maturity only recoveries arrive: each is the next recovery round, N+2, N+3, ...
            uint256 next = maturity + 1 + _recoveries;
            require(period == next, RecoveryRound(next, period));
        } else {
            require(period > _lastDistributedPeriod, PeriodClosed(period, _lastDistributedPeriod));
            require(period <= maturity, PeriodBeyondMaturity(period, maturity));
        }

        uint256 before = _stablecoin.balanceOf(address(this));
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
        // A fee-on-transfer stablecoin would credit more than arrived and break the accounting: refuse it.
        uint256 received = _stablecoin.balanceOf(address(this)) - before;
        require(received >= amount, TransferShortfall(amount, received));
        Deposits storage d = _deposited[period];
        uint128 credited = SafeCast.toUint128(amount);
        d.total += credited;
        if (kind == _KIND_RENT) d.rent += credited;
        _undistributedDeposits += amount;
        emit Deposited(period, kind, amount, msg.sender);
    }

    /// @inheritdoc ILeasePool
    function distribute(uint256 period) external whenNotPaused nonReentrant {
        require(!_finalized, PoolFinalized());
        uint256 last = _lastDistributedPeriod;
        require(period > last, PeriodAlreadyDistributed(period));
        require(period == last + 1, PeriodOutOfOrder(last + 1, period));
        require(period <= _periodCount, NotADistributionPeriod(period, _periodCount));
        uint256 end = _clock.endOf(period);
        require(block.timestamp >= end, PeriodNotEnded(period, end, block.timestamp));
        // Only inside the servicer's window does the caller matter: the role is read then, not after it.
        uint256 open = end + _distributionGrace;
        if (block.timestamp < open) require(hasRole(SERVICER_ROLE, msg.sender), ServicerWindow(period, open));
        require(_oracle.hasReport(period), ReportMissing(period));
        uint256 supply = IERC20(_seniorToken).totalSupply();
        require(supply == _seniorFace, SeniorSupplyMismatch(supply, _seniorFace));
        // Issuance closes once and for all (the token mints nothing after and burns nothing), so the first period is
        // the one to check the junior: closed, and at the deal's size, or holders would be paid on units the deal
        // never issued (a second minter diluting them before the close). The senior is checked at every period.
        if (period == 1) {
            require(ITrancheToken(_juniorToken).issuanceClosed(), IssuanceNotClosed(_juniorToken));
            supply = IERC20(_juniorToken).totalSupply();
            require(supply == _juniorFace, JuniorSupplyMismatch(supply, _juniorFace));
        }

        Deposits memory d = _deposited[period];
        PeriodLegs memory legs = _runPeriod(period, d, _oracle.revenueOf(period));
        _lastDistributedPeriod = uint64(period); // period <= periodCount, a uint32
        _record(period, legs, d.rent);
        _pay(legs);
        emit PeriodDistributed(period, legs);
    }

    /// @inheritdoc ILeasePool
    function declareDefault(string calldata reason) external onlyRole(TRUSTEE_ROLE) {
        _declare(TRIGGER_NONE, reason);
    }

    /// @inheritdoc ILeasePool
    function triggerDefault(uint8 trigger) external {
        require(trigger != TRIGGER_NONE && _triggerHolds(trigger), TriggerConditionNotMet(trigger));
        _declare(trigger, _triggerReason(trigger));
    }

    /// @inheritdoc ILeasePool
    function cureDefault(string calldata reason) external onlyRole(TRUSTEE_ROLE) {
        require(_defaulted, NotDefaulted());
        uint8 trigger = _defaultTrigger;
        require(trigger == TRIGGER_NONE || !_triggerHolds(trigger), TriggerConditionStillHolds(trigger));
        _cure(false, reason);
    }

    /// @inheritdoc ILeasePool
    function waiveDefault(string calldata reason) external onlyRole(TRUSTEE_ROLE) {
        require(_defaulted, NotDefaulted());
        uint8 trigger = _defaultTrigger;
        require(
            trigger != TRIGGER_NONE && _lastDistributedPeriod == _defaultSince,
            WaiverClosed(trigger, _defaultSince, _lastDistributedPeriod)
        );
        // The waiver forgives the condition it names, and only that one: a waived arrears streak starts again from
        // zero (else anyone could trigger it again at once), any other trigger leaves the streak as it stands.
        if (trigger == TRIGGER_INTEREST_ARREARS) _arrearsStreak = 0;
        _cure(true, reason);
    }

    /// @inheritdoc ILeasePool
    function triggerHolds(uint8 trigger) external view returns (bool) {
        return _triggerHolds(trigger);
    }

    /// @inheritdoc ILeasePool
    function finalize() external whenNotPaused nonReentrant {
        require(!_finalized, PoolFinalized());
        uint256 n = _periodCount;
        require(_lastDistributedPeriod == n, MaturityNotReached(_lastDistributedPeriod, n));
        uint256 endsAt = _clock.endOf(n + 1) + _distributionGrace;
        require(block.timestamp >= endsAt, MaturityNotEnded(endsAt, block.timestamp));

        PeriodLegs memory legs = _runMaturity(n + 1);
        _finalized = true;
        _pay(legs);
        emit PeriodDistributed(n + 1, legs);
        emit Finalized(_seniorOutstanding, _totalSeniorPaid, _totalJuniorPaid, _totalFeesPaid);
    }

    /// @inheritdoc ILeasePool
    function distributeRecovery() external whenNotPaused nonReentrant {
        require(_finalized, RecoveryBeforeMaturity());
        uint256 period = uint256(_periodCount) + 2 + _recoveries;
        PeriodLegs memory legs = _runRecovery(period);
        _recoveries += 1;
        _pay(legs);
        emit PeriodDistributed(period, legs);
    }

    /// @inheritdoc ILeasePool
    function fundReserve(uint256 amount) external nonReentrant {
        require(!_finalized, PoolFinalized());
        require(amount != 0, ZeroDeposit(0));
        uint256 before = _stablecoin.balanceOf(address(this));
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _stablecoin.balanceOf(address(this)) - before;
        require(received >= amount, TransferShortfall(amount, received));
        _reserve += amount;
        emit ReserveFunded(msg.sender, amount);
    }

    /// @inheritdoc ILeasePool
    function prepay(uint256 amount) external whenNotPaused nonReentrant {
        require(msg.sender == _register, NotRegister(msg.sender));
        require(!_finalized, PoolFinalized());
        require(amount != 0, ZeroDeposit(0));
        require(_scheduleDen == 0, AlreadyPrepaid());
        uint256 before = _stablecoin.balanceOf(address(this));
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _stablecoin.balanceOf(address(this)) - before;
        require(received >= amount, TransferShortfall(amount, received));
        uint256 balance = _seniorOutstanding;
        uint256 senior = WaterfallMath.min(amount, balance);
        uint256 junior = amount - senior;
        if (balance != 0) {
            // the schedule follows the smaller debt: each later amount shrinks as the balance did (balances < 2^128)
            _scheduleNum = uint128(balance - senior);
            _scheduleDen = uint128(balance);
        }
        balance -= senior;
        _seniorOutstanding = balance;
        uint256 arrears = WaterfallMath.min(_principalArrears, balance);
        _principalArrears = arrears;
        _totalSeniorPaid += senior;
        _totalJuniorPaid += junior;
        if (senior != 0) {
            _stablecoin.safeTransfer(_seniorToken, senior);
            IFundsDistributionToken(_seniorToken).distributeFunds(senior);
        }
        if (junior != 0) {
            _stablecoin.safeTransfer(_juniorToken, junior);
            IFundsDistributionToken(_juniorToken).distributeFunds(junior);
        }
        emit Prepaid(msg.sender, amount, senior, junior, balance, arrears,
            ITrancheToken(_seniorToken).carriedDustDown(), ITrancheToken(_juniorToken).carriedDustDown());
    }

    /// @inheritdoc ILeasePool
    function principalScale() external view returns (uint256 num, uint256 den) {
        return (_scheduleNum, _scheduleDen);
    }

    /// @inheritdoc ILeasePool
    function register() external view returns (address) {
        return _register;
    }

    /// @inheritdoc ILeasePool
    function payFees() external nonReentrant {
        uint256 owed = _feesOwed;
        require(owed != 0, NoFeesOwed());
        _feesOwed = 0;
        _stablecoin.safeTransfer(_feeRecipient, owed);
        emit FeesPaid(_feeRecipient, owed);
    }

    /// @inheritdoc ILeasePool
    function recoveries() external view returns (uint256) {
        return _recoveries;
    }

    /// @inheritdoc ILeasePool
    function feesOwed() external view returns (uint256) {
        return _feesOwed;
    }

    /// @inheritdoc ILeasePool
    function pause() external onlyRole(TRUSTEE_ROLE) {
        _boundedPause();
    }

    /// @inheritdoc ILeasePool
    function unpause() external {
        _liftPause(hasRole(TRUSTEE_ROLE, msg.sender));
    }

    // ------------------------------------------------------------------------------------------------- views
    /// @inheritdoc IDistributionStatus
    function lastDistributedPeriod() external view returns (uint256) {
        return _lastDistributedPeriod;
    }

    /// @inheritdoc ILeasePool
    function terms() external view returns (Terms memory) {
        return Terms({
            firstPeriodStart: _clock.firstStart(),
            periodLength: _clock.periodLength(),
            periodCount: _periodCount,
            seniorCouponBps: _seniorCouponBps,
            servicingFeePerPeriod: _servicingFeePerPeriod,
            reservePeriods: _reservePeriods,
            cashTrapDscrBps: _cashTrapDscrBps
        });
    }

    /// @inheritdoc ILeasePool
    function principalScheduleAt(uint256 period) external view returns (uint256) {
        return _scheduledPrincipal(period);
    }

    /// @inheritdoc ILeasePool
    function principalSchedule() external view returns (uint256[] memory schedule) {
        schedule = new uint256[](_periodCount);
        for (uint256 i; i < schedule.length; ++i) {
            schedule[i] = _principalSchedule[i + 1];
        }
    }

    /// @inheritdoc ILeasePool
    function refundScheduleAt(uint256 period) external view returns (uint256) {
        return _scheduledRefund[period];
    }

    /// @inheritdoc ILeasePool
    function refundSchedule() external view returns (uint256[] memory schedule) {
        schedule = new uint256[](_periodCount);
        for (uint256 i; i < schedule.length; ++i) {
            schedule[i] = _scheduledRefund[i + 1];
        }
    }

    /// @inheritdoc ILeasePool
    function seniorFace() external view returns (uint256) {
        return _seniorFace;
    }

    /// @inheritdoc ILeasePool
    function juniorFace() external view returns (uint256) {
        return _juniorFace;
    }

    /// @inheritdoc ILeasePool
    function stablecoin() external view returns (address) {
        return address(_stablecoin);
    }

    /// @inheritdoc ILeasePool
    function oracle() external view returns (address) {
        return address(_oracle);
    }

    /// @inheritdoc ILeasePool
    function seniorToken() external view returns (address) {
        return _seniorToken;
    }

    /// @inheritdoc ILeasePool
    function juniorToken() external view returns (address) {
        return _juniorToken;
    }

    /// @inheritdoc ILeasePool
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc ILeasePool
    function periodStart(uint256 period) external view returns (uint256) {
        return _clock.endOf(period == 0 ? 0 : period - 1);
    }

    /// @inheritdoc ILeasePool
    function periodEnd(uint256 period) external view returns (uint256) {
        return _clock.endOf(period);
    }

    /// @inheritdoc ILeasePool
    function periodEnds() external view returns (uint256[] memory ends) {
        ends = new uint256[](uint256(_periodCount) + 1);
        for (uint256 i; i < ends.length; ++i) {
            ends[i] = _clock.endOf(i + 1);
        }
    }

    /// @inheritdoc ILeasePool
    function deposited(uint256 period) external view returns (uint256) {
        return _deposited[period].total;
    }

    /// @inheritdoc ILeasePool
    function defaultRules() external view returns (DefaultRules memory) {
        return DefaultRules({
            arrearsPeriods: _arrearsPeriods,
            reportOverdueSeconds: _reportOverdueSeconds,
            shortfallBps: _shortfallBps,
            shortfallWindow: _shortfallWindow,
            distributionGrace: _distributionGrace,
            pastDueDays: _pastDueDays
        });
    }

    /// @inheritdoc ILeasePool
    function arrearsStreak() external view returns (uint256) {
        return _arrearsStreak;
    }

    /// @inheritdoc ILeasePool
    function defaultTrigger() external view returns (uint8) {
        return _defaultTrigger;
    }

    /// @inheritdoc ILeasePool
    function seniorOutstanding() external view returns (uint256) {
        return _seniorOutstanding;
    }

    /// @inheritdoc ILeasePool
    function reserveBalance() external view returns (uint256) {
        return _reserve;
    }

    /// @inheritdoc ILeasePool
    function interestArrears() external view returns (uint256) {
        return _interestArrears;
    }

    /// @inheritdoc ILeasePool
    function principalArrears() external view returns (uint256) {
        return _principalArrears;
    }

    /// @inheritdoc ILeasePool
    function defaulted() external view returns (bool) {
        return _defaulted;
    }

    /// @inheritdoc ILeasePool
    function finalized() external view returns (bool) {
        return _finalized;
    }

    /// @inheritdoc ILeasePool
    function totalTrapped() external view returns (uint256) {
        return _totalTrapped;
    }

    /// @inheritdoc ILeasePool
    function totalFeesPaid() external view returns (uint256) {
        return _totalFeesPaid;
    }

    /// @inheritdoc ILeasePool
    function totalSeniorPaid() external view returns (uint256) {
        return _totalSeniorPaid;
    }

    /// @inheritdoc ILeasePool
    function totalJuniorPaid() external view returns (uint256) {
        return _totalJuniorPaid;
    }

    /// @inheritdoc ILeasePool
    function poolState()
        external
        view
        returns (uint256, uint256, uint256, uint256, uint256, bool, bool, uint256, uint256, uint256, uint256)
    {
        return (_seniorOutstanding, _reserve, _interestArrears, _principalArrears, _lastDistributedPeriod, _defaulted,
                _finalized, _totalFeesPaid, _totalSeniorPaid, _totalJuniorPaid, _totalTrapped);
    }

    /// @inheritdoc ILeasePool
    function undistributedDeposits() external view returns (uint256) {
        return _undistributedDeposits;
    }

    // ---------------------------------------------------------------------------------------------- internal
    /// @dev Period `period`'s waterfall (1..N) on its deposits `d`; updates the carried state and returns the legs.
    function _runPeriod(uint256 period, Deposits memory d, uint256 reported)
        private
        returns (PeriodLegs memory legs)
    {
        Flow memory f = Flow({cash: d.total, reserve: _reserve, balance: _seniorOutstanding});
        _undistributedDeposits -= f.cash;
        legs.collected = f.cash;
        legs.reported = reported;
        legs.collectedMinusReported = WaterfallMath.signedDifference(f.cash, reported);
        bool isDefaulted = _defaulted;

        legs.fee = WaterfallMath.min(f.cash, _servicingFeePerPeriod);
        unchecked {
            f.cash -= legs.fee; // cannot underflow: the fee is at most the cash
        }

        uint256 schedInt = WaterfallMath.monthlyInterestDown(f.balance, _seniorCouponBps);
        uint256 schedPrin = WaterfallMath.min(_scheduledPrincipal(period), f.balance);
        uint256 covered = _coverage(d, reported, _servicingFeePerPeriod);
        legs.dscrBps = WaterfallMath.dscrBpsDown(covered, schedInt + schedPrin);

        uint256 due = _interestArrears + schedInt;
        legs.seniorInterest = _payFromCashThenReserve(f, due, legs);
        unchecked {
            legs.interestArrears = due - legs.seniorInterest; // cannot underflow: what is paid is at most what is due
        }

        due = isDefaulted ? f.balance : WaterfallMath.min(_principalArrears + schedPrin, f.balance);
        legs.seniorPrincipal = _payFromCashThenReserve(f, due, legs);
        unchecked {
            // cannot underflow: what is paid is at most what is due, and what is due at most the balance
            legs.principalArrears = isDefaulted ? 0 : due - legs.seniorPrincipal;
            f.balance -= legs.seniorPrincipal;
        }

        // The reserve (DSRA) is held at the next `reservePeriods` periods' scheduled debt service: topped up from
        // the cash when below, the excess released into the cash when above, all of it released once the senior
        // is repaid; in the last period with senior still owed it is kept for the maturity settlement.
        if (!isDefaulted) {
            uint256 released = 0;
            if (f.balance == 0) {
                released = f.reserve;
            } else if (period < _periodCount) {
                uint256 target = _reserveTarget(period, f.balance);
                if (f.reserve < target) legs.reserveIn = WaterfallMath.min(f.cash, target - f.reserve);
                else released = f.reserve - target;
            }
            unchecked {
                f.reserve -= released; // cannot underflow: at most the whole reserve is released
            }
            f.cash += released;
            legs.reserveOut += released;
        }
        unchecked {
            // cannot overflow: the top-up lifts the reserve to at most its target; nor underflow: the top-up is at
            // most the cash, and only set where nothing is released (it stays 0 in default)
            f.reserve += legs.reserveIn;
            f.cash -= legs.reserveIn;
        }

        // The cash trap (see the contract's NatSpec): the junior's share prepays senior at once.
        if ((legs.dscrBps < _cashTrapDscrBps || isDefaulted) && f.balance != 0) {
            legs.trapped = WaterfallMath.min(f.cash, f.balance);
            unchecked {
                // cannot underflow: the trapped amount is at most the cash and at most the balance
                f.cash -= legs.trapped;
                f.balance -= legs.trapped;
            }
            legs.principalArrears = WaterfallMath.min(legs.principalArrears, f.balance);
        }
        legs.junior = f.cash;
        legs.balanceAfter = f.balance;
        legs.reserveAfter = f.reserve;
        _commit(legs);
    }

    /// @dev The reserve target after `period`: the scheduled debt service of the next `reservePeriods` periods
    ///      (within the term) on the balance path that starts at `balance`, interest rounded down as paid.
    function _reserveTarget(uint256 period, uint256 balance) private view returns (uint256 target) {
        uint256 last = WaterfallMath.min(period + _reservePeriods, _periodCount);
        for (uint256 q = period + 1; q <= last && balance != 0;) {
            uint256 principal = WaterfallMath.min(_scheduledPrincipal(q), balance);
            target += WaterfallMath.monthlyInterestDown(balance, _seniorCouponBps) + principal;
            unchecked {
                // cannot underflow: the principal is at most the balance; nor overflow: q <= periodCount < 2**32
                balance -= principal;
                ++q;
            }
        }
    }

    /// @dev The covenant's coverage (see the contract's NatSpec): rent up to the attested revenue, less the
    ///      servicing fee (0 when the fee exceeds it).
    function _coverage(Deposits memory d, uint256 reported, uint256 fee) private pure returns (uint256) {
        uint256 coverage = WaterfallMath.min(d.rent, reported);
        return coverage > fee ? coverage - fee : 0;
    }

    /// @dev Pays up to `due` from the period's cash, then from the reserve (counted in `legs.reserveOut`).
    function _payFromCashThenReserve(Flow memory f, uint256 due, PeriodLegs memory legs)
        private
        pure
        returns (uint256 paid)
    {
        paid = WaterfallMath.min(f.cash, due);
        unchecked {
            // cannot underflow: `paid` is at most the cash and at most `due`, `drawn` at most the reserve and at
            // most `due - paid`; nor overflow: `paid + drawn` is at most `due`, and the draws counted in
            // `reserveOut` come out of one reserve, so together they are at most that reserve
            f.cash -= paid;
            uint256 drawn = WaterfallMath.min(f.reserve, due - paid);
            f.reserve -= drawn;
            legs.reserveOut += drawn;
            paid += drawn;
        }
    }

    /// @dev The maturity settlement N+1: its deposits plus the released reserve pay the fee, interest (arrears
    ///      first), the whole outstanding balance, then junior. Unpaid senior principal stays outstanding.
    function _runMaturity(uint256 maturity) private returns (PeriodLegs memory legs) {
        uint256 cash = _deposited[maturity].total;
        _undistributedDeposits -= cash;
        legs.collected = cash;
        legs.collectedMinusReported = WaterfallMath.signedDifference(cash, 0);
        legs.reserveOut = _reserve;
        cash += legs.reserveOut;
        uint256 balance = _seniorOutstanding;

        legs.fee = WaterfallMath.min(cash, _servicingFeePerPeriod);
        cash -= legs.fee;
        uint256 schedInt = WaterfallMath.monthlyInterestDown(balance, _seniorCouponBps);
        legs.dscrBps = WaterfallMath.dscrBpsDown(cash, schedInt + balance);

        uint256 interestDue = _interestArrears + schedInt;
        legs.seniorInterest = WaterfallMath.min(cash, interestDue);
        cash -= legs.seniorInterest;
        legs.interestArrears = interestDue - legs.seniorInterest;
        legs.seniorPrincipal = WaterfallMath.min(cash, balance);
        cash -= legs.seniorPrincipal;
        balance -= legs.seniorPrincipal;
        legs.principalArrears = _defaulted ? 0 : balance;
        legs.junior = cash;
        legs.balanceAfter = balance;
        legs.reserveAfter = 0;
        _commit(legs);
    }

    /// @dev A recovery round after maturity: its deposits pay senior interest arrears, the senior balance still owed,
    ///      then junior; no fee, no reserve, no new interest.
    function _runRecovery(uint256 period) private returns (PeriodLegs memory legs) {
        uint256 cash = _deposited[period].total;
        require(cash != 0, ZeroDeposit(period));
        _undistributedDeposits -= cash;
        legs.collected = cash;
        legs.collectedMinusReported = WaterfallMath.signedDifference(cash, 0);
        uint256 balance = _seniorOutstanding;
        legs.seniorInterest = WaterfallMath.min(cash, _interestArrears);
        cash -= legs.seniorInterest;
        legs.interestArrears = _interestArrears - legs.seniorInterest;
        legs.seniorPrincipal = WaterfallMath.min(cash, balance);
        cash -= legs.seniorPrincipal;
        balance -= legs.seniorPrincipal;
        legs.principalArrears = WaterfallMath.min(_principalArrears, balance);
        legs.junior = cash;
        legs.balanceAfter = balance;
        legs.dscrBps = type(uint32).max;
        _commit(legs);
    }

    /// @dev Writes the period's outcome to the carried state and the running totals.
    function _commit(PeriodLegs memory legs) private {
        _seniorOutstanding = legs.balanceAfter;
        _reserve = legs.reserveAfter;
        _interestArrears = legs.interestArrears;
        _principalArrears = legs.principalArrears;
        if (legs.trapped != 0) _totalTrapped += legs.trapped; // the trap is rare: skip the read and the write
        _totalFeesPaid += legs.fee;
        _totalSeniorPaid += legs.seniorInterest + legs.seniorPrincipal + legs.trapped;
        _totalJuniorPaid += legs.junior;
    }

    /// @dev Pays the fee recipient and both tranche tokens, then records the tokens' carried remainders.
    function _pay(PeriodLegs memory legs) private {
        // A push the stablecoin refuses (it blacklisted the recipient, as USDC and USDT can) must not stop the
        // holders' distribution: the fee is kept as owed and paid later by `payFees`.
        if (legs.fee != 0 && !_stablecoin.trySafeTransfer(_feeRecipient, legs.fee)) {
            _feesOwed += legs.fee;
            emit FeeDeferred(_feeRecipient, legs.fee);
        }
        uint256 senior = legs.seniorInterest + legs.seniorPrincipal + legs.trapped;
        if (senior != 0) {
            _stablecoin.safeTransfer(_seniorToken, senior);
            IFundsDistributionToken(_seniorToken).distributeFunds(senior);
        }
        if (legs.junior != 0) {
            _stablecoin.safeTransfer(_juniorToken, legs.junior);
            IFundsDistributionToken(_juniorToken).distributeFunds(legs.junior);
        }
        legs.seniorDust = ITrancheToken(_seniorToken).carriedDustDown();
        legs.juniorDust = ITrancheToken(_juniorToken).carriedDustDown();
    }

    /// @dev After period `period` ran (its rent `rent`): the arrears streak and the running sums of reported revenue
    ///      and rent.
    function _record(uint256 period, PeriodLegs memory legs, uint128 rent) private {
        _arrearsStreak = legs.interestArrears != 0 ? _arrearsStreak + 1 : 0;
        uint256 ring = uint256(_shortfallWindow) + 1;
        Cumulative memory before = _cumulative[(period - 1) % ring];
        _cumulative[period % ring] = Cumulative({
            reported: before.reported + uint128(legs.reported),
            rent: before.rent + rent
        });
    }

    function _declare(uint8 trigger, string memory reason) private {
        require(!_finalized, PoolFinalized());
        require(!_defaulted, AlreadyDefaulted(_defaultSince + 1));
        _defaulted = true;
        _defaultTrigger = trigger;
        _defaultSince = uint64(_lastDistributedPeriod); // a period count fits 64 bits
        emit DefaultDeclared(_lastDistributedPeriod + 1, reason, trigger, msg.sender);
    }

    /// @dev Ends the default and nothing else: the arrears streak and the trailing sums are the pool's records of
    ///      what happened, and only a labelled waiver of the arrears trigger resets the streak (`waiveDefault`), so a
    ///      declare-then-cure, or the cure of another trigger, never hides interest arrears from `triggerDefault`.
    function _cure(bool waived, string calldata reason) private {
        require(!_finalized, PoolFinalized());
        _defaulted = false;
        _defaultTrigger = TRIGGER_NONE;
        emit DefaultCured(_lastDistributedPeriod + 1, waived, reason, msg.sender);
    }

    function _triggerHolds(uint8 trigger) private view returns (bool) {
        uint256 last = _lastDistributedPeriod;
        if (trigger == TRIGGER_INTEREST_ARREARS) {
            return _arrearsPeriods != 0 && _arrearsStreak >= _arrearsPeriods;
        }
        if (trigger == TRIGGER_REPORT_OVERDUE) {
            uint256 next = last + 1;
            if (_reportOverdueSeconds == 0 || next > _periodCount) return false;
            return !_oracle.hasReport(next)
                && block.timestamp >= _clock.endOf(next) + uint256(_reportOverdueSeconds);
        }
        if (trigger == TRIGGER_COLLECTION_SHORTFALL) {
            uint256 window = _shortfallWindow;
            if (_shortfallBps == 0 || window == 0 || last < window) return false;
            Cumulative memory a = _cumulative[(last - window) % (window + 1)];
            Cumulative memory b = _cumulative[last % (window + 1)];
            uint256 reported = uint256(b.reported) - a.reported;
            uint256 rent = uint256(b.rent) - a.rent;
            return rent < reported && (reported - rent) * _BPS > reported * _shortfallBps;
        }
        if (trigger == TRIGGER_LESSEE_PAST_DUE) {
            if (_pastDueDays == 0) return false;
            (,, uint256 daysPastDue) = _oracle.latestPastDue();
            return daysPastDue > _pastDueDays;
        }
        return false;
    }

    function _triggerReason(uint8 trigger) private pure returns (string memory) {
        if (trigger == TRIGGER_INTEREST_ARREARS) return "senior interest in arrears for the stated periods";
        if (trigger == TRIGGER_REPORT_OVERDUE) return "the revenue report is overdue beyond its stated time";
        if (trigger == TRIGGER_LESSEE_PAST_DUE) return "a lessee is past due beyond the stated days";
        return "rent collected short of the attested revenue over the stated window";
    }

    function _pauseExpiry() internal view override returns (uint256) {
        return _pauseEnds;
    }

    function _setPauseExpiry(uint256 expiresAt) internal override {
        _pauseEnds = uint64(expiresAt);
    }

    /// @dev 0 outside 1..N, as the mapping holds nothing there; scaled after the long-stop's prepayment.
    function _scheduledPrincipal(uint256 period) private view returns (uint256) {
        uint256 amount = _principalSchedule[period];
        uint256 den = _scheduleDen;
        return den == 0 ? amount : amount * _scheduleNum / den;
    }
}
