// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ITrancheToken} from "../interfaces/ITrancheToken.sol";
import {IFundsDistributionToken} from "../interfaces/IFundsDistributionToken.sol";

/// @title TrancheLens
/// @notice TEST UTILITY: reads a tranche token's public views for many holders in one call, so that the stateful
///         test can check every holder's accounting after every step without hundreds of round trips. It only
///         calls the token's own external views; it holds nothing and changes nothing.
contract TrancheLens {
    /// @notice One holder as the token's views report it.
    struct HolderView {
        uint256 balance;
        int256 correction;
        uint256 claimable;
    }

    /// @notice The token's accumulator and each holder's balance, correction and claimable.
    function holdersOf(address token, address[] calldata holders)
        external
        view
        returns (uint256 pointsPerShare, uint256 pointsRemainder, HolderView[] memory views)
    {
        ITrancheToken t = ITrancheToken(token);
        pointsPerShare = t.pointsPerShare();
        pointsRemainder = t.pointsRemainder();
        views = new HolderView[](holders.length);
        for (uint256 i; i < holders.length; ++i) {
            views[i] = HolderView({
                balance: IERC20(token).balanceOf(holders[i]),
                correction: t.pointsCorrectionOf(holders[i]),
                claimable: IFundsDistributionToken(token).claimable(holders[i])
            });
        }
    }

    /// @notice `token` balances of `accounts`.
    function balancesOf(address token, address[] calldata accounts) external view returns (uint256[] memory out) {
        out = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            out[i] = IERC20(token).balanceOf(accounts[i]);
        }
    }
}
