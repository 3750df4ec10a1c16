// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice When each period of a deal ends, fixed at deployment in one word (a contract keeps it as one immutable):
///         calendar months from the first start, the deal's calendar, or periods of a fixed number of seconds.
type PeriodClock is uint256;

using PeriodClockLib for PeriodClock global;

/// @title PeriodClockLib
/// @notice Calendar months: period p ends p calendar months after the first start, in UTC, on the first start's day
///         of the month at its time of day, or on the month's last day when the month is shorter (a first start on
///         31 January ends period 1 on the last day of February and period 2 on 31 March). Every end is counted from
///         the first start, never from the end before it, so a short month does not shift the months after it. A
///         first start on the 1st at 00:00 UTC, the normal case, makes every period one calendar month. The
///         proleptic Gregorian calendar, leap years included; no leap seconds (unix time has none).
///         `rwa/period_clock.py` is the same rule in Python: the deal's period ends are computed there and compared
///         with these on random dates by `tests/property/test_period_clock_props.py`.
/// @dev The word: bits 0-63 the first start (unix seconds); 64-95 the fixed period length in seconds, 0 for calendar
///      months (`CALENDAR_MONTHS`); for calendar months, the first start split once at deployment: 96-143 its month
///      counted from March of year 0, 144-151 its day of the month, 152-175 its second of the day. Years are taken to
///      begin in March (H. Hinnant's days_from_civil), so that February, the one month whose length varies, ends the
///      year and a month's first day is a linear function of its index. `endOf` reads no storage: about 360 gas
///      for a first start on days 1-28 of a month, 680 on days 29-31 (the month's length is then looked up).
///      Deliberately not checked: that the first start is on the 1st at midnight (any time is a valid anchor).
library PeriodClockLib {
    /// @notice Thrown when asked for the end of a period beyond any deal's (2**32 - 1 periods).
    error PeriodOutOfRange(uint256 period);

    /// @notice The period length that means calendar months.
    uint32 internal constant CALENDAR_MONTHS = 0;

    uint256 private constant _DAY = 86_400;
    /// @dev Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
    uint256 private constant _EPOCH_DAYS = 719_468;
    /// @dev Days in 400 Gregorian years.
    uint256 private constant _ERA_DAYS = 146_097;

    /// @notice The clock of periods starting at `firstStart`: calendar months when `periodLength` is
    ///         `CALENDAR_MONTHS`, else periods of `periodLength` seconds.
    function create(uint64 firstStart, uint32 periodLength) internal pure returns (PeriodClock) {
        uint256 word = uint256(firstStart) | (uint256(periodLength) << 64);
        if (periodLength == CALENDAR_MONTHS) {
            (uint256 year, uint256 month, uint256 day) = _civil(firstStart / _DAY + _EPOCH_DAYS);
            word |= ((year * 12 + month) << 96) | (day << 144) | ((uint256(firstStart) % _DAY) << 152);
        }
        return PeriodClock.wrap(word);
    }

    /// @notice The end of period `period` (1-based; 0 gives the first start): where period `period + 1` starts.
    function endOf(PeriodClock clock, uint256 period) internal pure returns (uint256) {
        require(period <= type(uint32).max, PeriodOutOfRange(period));
        uint256 word = PeriodClock.unwrap(clock);
        unchecked {
            // cannot overflow: period < 2**32 and every field of the word is under 2**64, so no term reaches 2**90;
            // nor underflow: the month is at or after the first start's, which is at or after 1970-01-01
            uint256 length = uint32(word >> 64);
            if (length != CALENDAR_MONTHS) return uint256(uint64(word)) + period * length;
            uint256 month = uint256(uint48(word >> 96)) + period;
            uint256 year = month / 12;
            month %= 12;
            uint256 day = uint8(word >> 144);
            if (day > 28) day = _clampToMonth(year, month, day); // only days 29-31 can pass a month's end
            return (_yearStart(year) + _monthStart(month) + day - 1 - _EPOCH_DAYS) * _DAY + uint24(word >> 152);
        }
    }

    /// @notice The first start the clock counts from.
    function firstStart(PeriodClock clock) internal pure returns (uint64) {
        return uint64(PeriodClock.unwrap(clock));
    }

    /// @notice The fixed period length in seconds, or `CALENDAR_MONTHS`.
    function periodLength(PeriodClock clock) internal pure returns (uint32) {
        return uint32(PeriodClock.unwrap(clock) >> 64);
    }

    /// @dev Days from 0000-03-01 to the 1 March that starts March-year `year` (under 2**50).
    function _yearStart(uint256 year) private pure returns (uint256) {
        unchecked {
            // cannot overflow or underflow: year < 2**50, and year / 100 <= year / 4
            return 365 * year + year / 4 - year / 100 + year / 400;
        }
    }

    /// @dev Days from 1 March to the first day of month `month` of a March-year (0 March .. 11 February).
    function _monthStart(uint256 month) private pure returns (uint256) {
        unchecked {
            return (153 * month + 2) / 5; // cannot overflow: month < 13
        }
    }

    /// @dev `day`, or the last day of month `month` of March-year `year` when the month is shorter; its February
    ///      (11) is in civil year `year + 1`.
    function _clampToMonth(uint256 year, uint256 month, uint256 day) private pure returns (uint256) {
        uint256 last;
        if (month != 11) {
            last = _monthStart(month + 1) - _monthStart(month);
        } else {
            uint256 civil = year + 1;
            last = civil % 4 == 0 && (civil % 100 != 0 || civil % 400 == 0) ? 29 : 28;
        }
        return day < last ? day : last;
    }

    /// @dev The March-year, month (0 March .. 11 February) and day of the month of `daysSinceMarch0`, days counted
    ///      from 0000-03-01. The year estimate from the mean Gregorian year is at most one off either way.
    function _civil(uint256 daysSinceMarch0) private pure returns (uint256 year, uint256 month, uint256 day) {
        year = daysSinceMarch0 * 400 / _ERA_DAYS;
        if (_yearStart(year + 1) <= daysSinceMarch0) year += 1;
        else if (_yearStart(year) > daysSinceMarch0) year -= 1;
        uint256 dayOfYear = daysSinceMarch0 - _yearStart(year);
        month = (5 * dayOfYear + 2) / 153;
        day = dayOfYear - _monthStart(month) + 1;
    }
}
