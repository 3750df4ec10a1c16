// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DealTimelock
/// @notice The deal's admin after issuance: OpenZeppelin's TimelockController, unchanged. Every power over holders'
///         money or the deal's facts (granting and revoking roles on the pool, the tokens, the registry and the
///         oracle; forced transfers and wallet recoveries; the oracle's reporters and threshold) is a call the issuer
///         proposes (`schedule`, an on-chain announcement with the exact call), that anyone may execute once the
///         delay has passed, and that the trustee may cancel before.
/// @dev The delay is set longer than one distribution period, so a holder sees a privileged call announced at least
///      one distribution before it can run. Changing the delay is itself a timelocked call.
contract DealTimelock is TimelockController {
    /// @param minDelay seconds between a call's announcement and the earliest time it may run
    /// @param proposers who may announce calls (the issuer); they may also cancel their own
    /// @param executors who may run a call once it is ready (address(0): anyone)
    /// @param admin an optional account allowed to grant the trustee its canceller role once; it then renounces
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
