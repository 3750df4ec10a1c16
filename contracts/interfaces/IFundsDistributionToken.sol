// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IFundsDistributionToken
/// @notice A tranche token that credits its holders pro rata with stablecoin the pool sends it (ERC-2222 style).
interface IFundsDistributionToken {
    /// @notice Credits `amount` of stablecoin, already transferred to this token by the caller, to the holders pro
    ///         rata to their balances. Only the pool (DISTRIBUTOR_ROLE) may call it.
    function distributeFunds(uint256 amount) external;

    /// @notice Stablecoin `holder` can claim now, rounded down.
    function claimable(address holder) external view returns (uint256);

    /// @notice Pays the caller everything claimable, in the stablecoin. Returns the amount paid.
    function claim() external returns (uint256);
}
