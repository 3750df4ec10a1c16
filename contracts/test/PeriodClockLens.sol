// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PeriodClock, PeriodClockLib} from "../libraries/PeriodClock.sol";

/// @title PeriodClockLens
/// @notice TEST UTILITY: exposes `PeriodClockLib` so that tests compare its period ends with `rwa.period_clock` on
///         many dates in one call each. It holds nothing and changes nothing.
contract PeriodClockLens {
    /// @notice The ends of periods `from`..`from + count - 1` of the clock of `firstStart` and `periodLength`.
    function endsOf(uint64 firstStart, uint32 periodLength, uint256 from, uint256 count)
        external
        pure
        returns (uint256[] memory ends)
    {
        PeriodClock clock = PeriodClockLib.create(firstStart, periodLength);
        ends = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            ends[i] = clock.endOf(from + i);
        }
    }

    /// @notice Gas of one `endOf` (its arithmetic, without the call around it).
    function endOfGas(uint64 firstStart, uint32 periodLength, uint256 period)
        external
        view
        returns (uint256 end, uint256 gasUsed)
    {
        PeriodClock clock = PeriodClockLib.create(firstStart, periodLength);
        uint256 before = gasleft();
        end = clock.endOf(period);
        gasUsed = before - gasleft();
    }
}
