// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ReadBatch
/// @notice Several view calls in one `eth_call`, never deployed: the caller sends this contract's creation code with
///         the calls appended as a call without a recipient, the constructor runs each call and returns every
///         result as if it were the new contract's code, and the node hands that back as the call's output. So a
///         command reads what one step needs at one block in one round trip, on any node and for any deployment,
///         with nothing to deploy, trust or upgrade.
/// @dev The output is `abi.encode(Result[])`. A result whose call failed carries the revert data, for the caller to
///      decode. The encoded results become "code" only inside the call, so they are bounded by the code size limit
///      (EIP-170, 24,576 bytes): callers keep a batch's results well under it.
///      Deliberately not checked: that a target is a contract (a call to an account without code succeeds with
///      empty data, which the caller's decoding refuses) or that a call is a view (a static call cannot write).
contract ReadBatch {
    /// @notice One call: the contract and the calldata.
    struct Call {
        address target;
        bytes data;
    }

    /// @notice One call's outcome: whether it succeeded, and its return or revert data.
    struct Result {
        bool success;
        bytes data;
    }

    /// @notice Runs `calls` in order with STATICCALL and returns their results in place of code.
    constructor(Call[] memory calls) {
        Result[] memory results = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            // slither-disable-next-line calls-loop,low-level-calls
            (results[i].success, results[i].data) = calls[i].target.staticcall(calls[i].data);
        }
        bytes memory encoded = abi.encode(results);
        assembly ("memory-safe") {
            return(add(encoded, 0x20), mload(encoded))
        }
    }
}
