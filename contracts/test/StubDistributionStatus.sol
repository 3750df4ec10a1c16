// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDistributionStatus} from "../interfaces/IDistributionStatus.sol";

/// @title StubDistributionStatus
/// @notice Test double for the lease pool as the oracle sees it: anyone can set the last distributed period.
/// @dev Deliberately not checked: who sets it. Never deploy outside tests.
contract StubDistributionStatus is IDistributionStatus {
    // ------------------------------------------------------------------------------------------------ storage
    uint256 private _lastDistributedPeriod;

    // ----------------------------------------------------------------------------------------------- external
    /// @notice Sets what `lastDistributedPeriod()` returns.
    function setLastDistributedPeriod(uint256 period) external {
        _lastDistributedPeriod = period;
    }

    /// @inheritdoc IDistributionStatus
    function lastDistributedPeriod() external view returns (uint256) {
        return _lastDistributedPeriod;
    }
}
