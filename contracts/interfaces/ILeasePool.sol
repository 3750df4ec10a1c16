// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDistributionStatus} from "./IDistributionStatus.sol";

/// @title ILeasePool
/// @notice One deal's lease pool: the servicer deposits the collected stablecoin per period and the pool runs the
///         waterfall (servicing fee, senior interest, senior principal, reserve top-up, cash trap, junior) once the
///         revenue oracle holds the period's report, paying each tranche token, which credits its holders pro rata.
/// @dev Periods are numbered 1..N (`periodCount`); N+1 is the maturity settlement, run by `finalize`, where the
///      residual value and the released reserve pay what senior is still owed and the rest goes to junior.
///      All amounts are in the stablecoin's smallest unit; every division rounds down, in favour of the pool.
interface ILeasePool is IDistributionStatus {
    // ------------------------------------------------------------------------------------------------ types
    /// @notice The deal's terms, fixed at deployment.
    /// @param firstPeriodStart unix time period 1 starts
    /// @param periodLength 0 (`PeriodClockLib.CALENDAR_MONTHS`, a deal's calendar): period p ends p calendar months
    ///        after `firstPeriodStart` (UTC, same day and time, or the month's last day when it is shorter); else
    ///        seconds per period (equal periods, for tests)
    /// @param periodCount N, the number of periods
    /// @param seniorCouponBps the senior's annual coupon in basis points; a period's interest is
    ///        `balance * seniorCouponBps / 120000`, rounded down: a 30/360 monthly coupon, one twelfth of the annual
    ///        rate every period whatever its number of days
    /// @param servicingFeePerPeriod the fee paid first every period (capped at the period's cash)
    /// @param reservePeriods the reserve (DSRA) target: the scheduled senior debt service of the next this many periods
    /// @param cashTrapDscrBps the DSCR covenant in basis points: under it the junior's share prepays senior
    struct Terms {
        uint64 firstPeriodStart;
        uint32 periodLength;
        uint32 periodCount;
        uint32 seniorCouponBps;
        uint256 servicingFeePerPeriod;
        uint32 reservePeriods;
        uint32 cashTrapDscrBps;
    }

    /// @notice The objective events of default and the servicer's window, fixed at deployment from the deal.
    /// @param arrearsPeriods anyone may trigger default once senior interest has been in arrears this many
    ///        consecutive distributed periods (0: never)
    /// @param reportOverdueSeconds anyone may trigger default when the next period's report is still missing this
    ///        long after the period ended (0: never)
    /// @param shortfallBps anyone may trigger default when rent collected over the last `shortfallWindow`
    ///        distributed periods is short of the revenue reported for them by more than this share (0: never)
    /// @param shortfallWindow the number of distributed periods the shortfall is measured over
    /// @param distributionGrace after a period ends, only the servicer distributes it for this long (to finish
    ///        depositing); then anyone may. Maturity N+1 is finalized by anyone once it has ended plus this grace.
    /// @param pastDueDays anyone may trigger default when a lease in the latest report's tape is more than this many
    ///        days past due (0: never)
    struct DefaultRules {
        uint32 arrearsPeriods;
        uint32 reportOverdueSeconds;
        uint32 shortfallBps;
        uint32 shortfallWindow;
        uint32 distributionGrace;
        uint32 pastDueDays;
    }

    /// @notice The parties and contracts of the deal.
    /// @param admin DEFAULT_ADMIN_ROLE (the deal's timelock after issuance)
    /// @param servicer SERVICER_ROLE: deposits, and distributes first
    /// @param trustee TRUSTEE_ROLE: declares, cures and waives default, pauses (at most MAX_PAUSE)
    /// @param register the fleet register: its long-stop settlement prepays the senior (`prepay`)
    struct Parties {
        address stablecoin;
        address oracle;
        address seniorToken;
        address juniorToken;
        address admin;
        address servicer;
        address trustee;
        address feeRecipient;
        address register;
    }

    /// @notice Every leg of one period's waterfall, so that history replays without reading storage.
    /// @param collected stablecoin deposited for the period (all kinds; at maturity without the released reserve)
    /// @param reported the oracle's reported revenue for the period (0 at maturity)
    /// @param collectedMinusReported `collected - reported`: negative for a shortfall of cash against the report
    /// @param fee servicing fee paid to the fee recipient
    /// @param seniorInterest senior interest paid (arrears first), including what was drawn from the reserve
    /// @param seniorPrincipal senior principal paid (arrears first), including what was drawn from the reserve
    /// @param reserveIn reserve top-up taken from the period's cash
    /// @param reserveOut reserve drawn for senior, plus the excess over its target released into the period's cash
    ///        (all of it once the senior is repaid, and at maturity)
    /// @param trapped cash the covenant trapped and paid to senior as prepayment
    /// @param junior paid to the junior token
    /// @param seniorDust the senior token's carried distribution remainder after this distribution
    /// @param juniorDust the junior token's carried distribution remainder after this distribution
    /// @param balanceAfter senior outstanding after the period
    /// @param interestArrears senior interest still owed after the period
    /// @param principalArrears senior scheduled principal overdue after the period
    /// @param reserveAfter reserve held after the period
    /// @param dscrBps the covenant test: in periods 1..N the coverage (rent up to the attested revenue, less the fee;
    ///        tax refunds are not counted) over the period's scheduled senior debt service; at
    ///        maturity the cash after the fee over interest and the balance; in bps, rounded down, capped at
    ///        type(uint32).max (also when no senior debt service is scheduled, and in recoveries)
    struct PeriodLegs {
        uint256 collected;
        uint256 reported;
        int256 collectedMinusReported;
        uint256 fee;
        uint256 seniorInterest;
        uint256 seniorPrincipal;
        uint256 reserveIn;
        uint256 reserveOut;
        uint256 trapped;
        uint256 junior;
        uint256 seniorDust;
        uint256 juniorDust;
        uint256 balanceAfter;
        uint256 interestArrears;
        uint256 principalArrears;
        uint256 reserveAfter;
        uint256 dscrBps;
    }

    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when the principal schedule does not have one amount per period.
    error ScheduleLengthMismatch(uint256 scheduleLength, uint256 periodCount);
    /// @notice Thrown when the refund schedule does not have one amount per period.
    error RefundScheduleLengthMismatch(uint256 scheduleLength, uint256 periodCount);
    /// @notice Thrown when the terms have no periods or the schedule sums to zero.
    error InvalidTerms(uint256 periodCount, uint256 seniorFace);
    /// @notice Thrown when a constructor address argument is zero; `index` is its position (0 = stablecoin).
    error ZeroAddress(uint256 index);
    /// @notice Thrown when the senior and junior tranche tokens are the same contract.
    error SameTrancheTokens(address token);
    /// @notice Thrown when the senior token's supply is not the senior face the schedule sums to.
    error SeniorSupplyMismatch(uint256 supply, uint256 face);
    /// @notice Thrown when the junior token's supply is not the junior units the deal issues (at deployment, when
    ///         minted already, and at the first period, once its issuance has closed).
    error JuniorSupplyMismatch(uint256 supply, uint256 face);
    /// @notice Thrown when a deposit carries no stablecoin.
    error ZeroDeposit(uint256 period);
    /// @notice Thrown when the pool received less stablecoin than a deposit's amount (fee-on-transfer tokens).
    error TransferShortfall(uint256 expected, uint256 received);
    /// @notice Thrown when a deposit's kind is not rent (0), tax refund (1), residual value (2) or other (3).
    error UnknownDepositKind(uint8 kind);
    /// @notice Thrown when depositing for a period already distributed (or period 0).
    error PeriodClosed(uint256 period, uint256 lastDistributedPeriod);
    /// @notice Thrown when depositing for a period after the maturity settlement N+1.
    error PeriodBeyondMaturity(uint256 period, uint256 maturityPeriod);
    /// @notice Thrown when distributing a period that has already been distributed.
    error PeriodAlreadyDistributed(uint256 period);
    /// @notice Thrown when distributing any period but the one after the last distributed.
    error PeriodOutOfOrder(uint256 expected, uint256 got);
    /// @notice Thrown when distributing a period outside 1..N (N+1 is settled by `finalize`).
    error NotADistributionPeriod(uint256 period, uint256 periodCount);
    /// @notice Thrown when distributing a period before its end.
    error PeriodNotEnded(uint256 period, uint256 periodEnd, uint256 nowTime);
    /// @notice Thrown when distributing a period for which the oracle holds no report.
    error ReportMissing(uint256 period);
    /// @notice Thrown when finalizing before period N is distributed.
    error MaturityNotReached(uint256 lastDistributedPeriod, uint256 periodCount);
    /// @notice Thrown when depositing, distributing, declaring default or finalizing after finalization.
    error PoolFinalized();
    /// @notice Thrown when the first period is distributed while a tranche token still mints (its offering has
    ///         not delivered every unit): holders would be paid on a supply that is still growing.
    error IssuanceNotClosed(address token);
    /// @notice Thrown when default is declared a second time.
    error AlreadyDefaulted(uint256 sincePeriod);
    /// @notice Thrown when triggering default on a condition that does not hold now.
    error TriggerConditionNotMet(uint8 trigger);
    /// @notice Thrown when curing a triggered default whose condition still holds.
    error TriggerConditionStillHolds(uint8 trigger);
    /// @notice Thrown when curing or waiving while the pool is not in default.
    error NotDefaulted();
    /// @notice Thrown when waiving a default that was not triggered, or after a period was distributed under it.
    error WaiverClosed(uint8 trigger, uint256 sincePeriod, uint256 lastDistributedPeriod);
    /// @notice Thrown when anyone but the servicer distributes before the period's grace has passed.
    error ServicerWindow(uint256 period, uint256 openToAnyoneAt);
    /// @notice Thrown when a deposit after maturity is not for the next recovery round.
    error RecoveryRound(uint256 expected, uint256 got);
    /// @notice Thrown when distributing a recovery before the pool is finalized.
    error RecoveryBeforeMaturity();
    /// @notice Thrown when paying fees while none are owed.
    error NoFeesOwed();
    /// @notice Thrown when finalizing before period N+1 has ended and its grace has passed.
    error MaturityNotEnded(uint256 endsAt, uint256 nowTime);
    /// @notice Thrown when anyone but the fleet register prepays.
    error NotRegister(address caller);
    /// @notice Thrown when the pool is prepaid a second time (the register's long-stop settles once).
    error AlreadyPrepaid();

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when the servicer deposits `amount` of stablecoin of `kind` for `period`.
    event Deposited(uint256 indexed period, uint8 indexed kind, uint256 amount, address indexed from);
    /// @notice Emitted when a period's waterfall has run (period N+1 at maturity); carries every leg.
    event PeriodDistributed(uint256 indexed period, PeriodLegs legs);
    /// @notice Emitted when the pool enters default (declared by the trustee, or triggered by anyone on an objective
    ///         condition, then `trigger` is its number); `period` is the first period run under it.
    event DefaultDeclared(uint256 indexed period, string reason, uint8 indexed trigger, address indexed by);
    /// @notice Emitted when the trustee cures (its condition no longer holds) or waives (before any period ran
    ///         under it) a default; `period` is the first period run without it.
    event DefaultCured(uint256 indexed period, bool waived, string reason, address indexed by);
    /// @notice Emitted when the stablecoin refused the fee's transfer to `recipient` (blacklisted): it is owed.
    event FeeDeferred(address indexed recipient, uint256 amount);
    /// @notice Emitted when `from` adds `amount` of stablecoin to the reserve (the offering's funding at its close).
    event ReserveFunded(address indexed from, uint256 amount);
    /// @notice Emitted when owed fees are paid to `recipient`.
    event FeesPaid(address indexed recipient, uint256 amount);
    /// @notice Emitted when the pool is closed at maturity; nothing more can be deposited or distributed.
    /// @notice The fleet register's long-stop prepayment: `seniorPaid` repays senior principal at once and every later
    ///         scheduled amount shrinks by `balanceAfter / (balanceAfter + seniorPaid)`, rounded down; the rest goes
    ///         to the junior; the tokens' carried remainders after.
    event Prepaid(address indexed from, uint256 amount, uint256 seniorPaid, uint256 juniorPaid, uint256 balanceAfter,
        uint256 principalArrearsAfter, uint256 seniorDust, uint256 juniorDust);
    event Finalized(uint256 seniorOutstanding, uint256 totalSeniorPaid, uint256 totalJuniorPaid, uint256 totalFees);

    // --------------------------------------------------------------------------------------------- external
    /// @notice Deposits `amount` of stablecoin (pulled from the caller) for `period` (> last distributed, <= N+1).
    /// @param kind 0 rent, 1 tax refund, 2 residual value, 3 other
    function deposit(uint256 period, uint256 amount, uint8 kind) external;

    /// @notice Runs period `period`'s waterfall and pays both tranche tokens. The servicer distributes first (a
    ///         period's deposits close when it is distributed, and the servicer knows when collection is complete);
    ///         once the period has ended plus `distributionGrace`, anyone may, so no key can hold holders' money back.
    function distribute(uint256 period) external;

    /// @notice The trustee declares the lessee in default: from the next period all cash after the fee goes to
    ///         senior until the senior balance is repaid, then to junior.
    function declareDefault(string calldata reason) external;

    /// @notice Anyone triggers default when objective condition `trigger` holds now (1 interest arrears for
    ///         `arrearsPeriods` periods, 2 the next report overdue, 3 collections short over the window).
    function triggerDefault(uint8 trigger) external;

    /// @notice The trustee cures a default: a triggered one only once its condition no longer holds. A cure ends
    ///         the default only: the arrears streak runs on, so interest still in arrears can trigger default again.
    function cureDefault(string calldata reason) external;

    /// @notice The trustee waives a triggered default before any period has been distributed under it; a waiver of
    ///         the interest-arrears trigger also restarts the arrears streak from zero (the labelled forgiveness).
    function waiveDefault(string calldata reason) external;

    /// @notice After maturity, pays what was recovered (deposited for the next round, N+2, N+3, ...) through the
    ///         rest of the waterfall: senior interest arrears, the senior balance still owed, then junior (no fee;
    ///         no interest accrues after maturity). Anyone may call it.
    function distributeRecovery() external;

    /// @notice Pays the fee recipient the fees the stablecoin refused before (anyone may call).
    function payFees() external;

    /// @notice Adds `amount` of stablecoin from the caller to the reserve (DSRA); anyone may, before maturity.
    function fundReserve(uint256 amount) external;

    /// @notice Pays `amount` of the caller's stablecoin to the senior as principal, up to its balance, and the rest to
    ///         the junior, and scales the rest of the principal schedule to the smaller balance; the fleet register
    ///         only (the raise its long-stop found unspent), once.
    function prepay(uint256 amount) external;

    /// @notice The fleet register that may prepay.
    function register() external view returns (address);

    /// @notice The scale of the principal schedule after the prepayment (num / den; 0 / 0 before it).
    function principalScale() external view returns (uint256 num, uint256 den);

    /// @notice Recovery rounds distributed after maturity; the next one is period N + 2 + recoveries.
    function recoveries() external view returns (uint256);

    /// @notice Fees owed to the fee recipient because the stablecoin refused to deliver them.
    function feesOwed() external view returns (uint256);

    /// @notice Whether objective condition `trigger` holds now.
    function triggerHolds(uint8 trigger) external view returns (bool);

    /// @notice Settles maturity (period N+1) once it has ended plus the grace, and closes the pool. Anyone may.
    function finalize() external;

    /// @notice The trustee stops deposits, distributions and finalization for at most MAX_PAUSE (claims on the
    ///         tokens are not affected).
    function pause() external;

    /// @notice Lifts `pause`: the trustee at any time, anyone once it has expired.
    function unpause() external;

    // ------------------------------------------------------------------------------------------------ views
    function terms() external view returns (Terms memory);
    function defaultRules() external view returns (DefaultRules memory);
    /// @notice Consecutive distributed periods that ended with senior interest in arrears.
    function arrearsStreak() external view returns (uint256);
    /// @notice The objective condition the current default was triggered on (0: declared by the trustee, or none).
    function defaultTrigger() external view returns (uint8);
    function principalScheduleAt(uint256 period) external view returns (uint256);
    /// @notice The whole senior principal schedule, one amount per period (what `principalScheduleAt` reads).
    function principalSchedule() external view returns (uint256[] memory);
    /// @notice The tax refund the deal schedules for `period`: the most of the period's refund deposits the
    ///         covenant counts (0 outside 1..N).
    function refundScheduleAt(uint256 period) external view returns (uint256);
    /// @notice The whole refund schedule, one amount per period (what `refundScheduleAt` reads).
    function refundSchedule() external view returns (uint256[] memory);
    function seniorFace() external view returns (uint256);
    /// @notice The junior units the deal issues: the junior token's supply once its issuance has closed.
    function juniorFace() external view returns (uint256);
    function stablecoin() external view returns (address);
    function oracle() external view returns (address);
    function seniorToken() external view returns (address);
    function juniorToken() external view returns (address);
    function feeRecipient() external view returns (address);
    /// @notice When `period` starts: the end of the period before it (period 1: `firstPeriodStart`).
    function periodStart(uint256 period) external view returns (uint256);
    /// @notice When `period` ends (N+1: the maturity settlement's end, after which `finalize` may run).
    function periodEnd(uint256 period) external view returns (uint256);
    /// @notice The ends of periods 1..N+1, in order: what `periodEnd` returns for each.
    function periodEnds() external view returns (uint256[] memory);
    /// @notice Stablecoin deposited for `period` (all kinds).
    function deposited(uint256 period) external view returns (uint256);
    function seniorOutstanding() external view returns (uint256);
    function reserveBalance() external view returns (uint256);
    function interestArrears() external view returns (uint256);
    function principalArrears() external view returns (uint256);
    function defaulted() external view returns (bool);
    function finalized() external view returns (bool);
    function totalTrapped() external view returns (uint256);
    function totalFeesPaid() external view returns (uint256);
    function totalSeniorPaid() external view returns (uint256);
    function totalJuniorPaid() external view returns (uint256);

    /// @notice What the pool carries into its next period, in one call (the views above, in this order): the senior
    ///         balance, the reserve, interest and principal arrears, the last distributed period, whether it is in
    ///         default and finalized, and the fees, senior, junior and trapped totals paid so far.
    function poolState()
        external
        view
        returns (uint256, uint256, uint256, uint256, uint256, bool, bool, uint256, uint256, uint256, uint256);
    /// @notice Stablecoin deposited for periods not yet distributed (including N+1 before finalization).
    function undistributedDeposits() external view returns (uint256);
}
