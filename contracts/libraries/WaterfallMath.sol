// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WaterfallMath
/// @notice The lease pool's integer arithmetic. Every division rounds down: interest due and the DSCR are never
///         overstated, so the pool never owes more than its cash. Mirrored by `rwa/waterfall.py`.
library WaterfallMath {
    // --------------------------------------------------------------------------------------------- constants
    /// @dev Annual basis points to one month: bps / 10_000 / 12.
    uint256 internal constant MONTHLY_BPS_DIVISOR = 120_000;
    uint256 internal constant BPS = 10_000;
    /// @dev The DSCR's cap, also its value when no senior debt service is scheduled.
    uint256 internal constant DSCR_CAP = type(uint32).max;

    // -------------------------------------------------------------------------------------------- functions
    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// @notice One period's interest on `balance` at the annual `couponBps`, rounded down.
    function monthlyInterestDown(uint256 balance, uint256 couponBps) internal pure returns (uint256) {
        return balance * couponBps / MONTHLY_BPS_DIVISOR;
    }

    /// @notice `cash / debtService` in basis points, rounded down and capped at `DSCR_CAP` (the cap when nothing is
    ///         due).
    function dscrBpsDown(uint256 cash, uint256 debtService) internal pure returns (uint256) {
        if (debtService == 0) return DSCR_CAP;
        return min(cash * BPS / debtService, DSCR_CAP);
    }

    /// @notice `a - b` as a signed number; both are far below 2**255 (stablecoin amounts and uint128 revenue).
    function signedDifference(uint256 a, uint256 b) internal pure returns (int256) {
        return int256(a) - int256(b);
    }
}
