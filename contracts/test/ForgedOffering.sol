// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDealOffering} from "../interfaces/IDealOffering.sol";

/// @title ForgedOffering
/// @notice Test double: answers the views of a real offering but emits whatever book events it is told to, as a rogue
///         contract named in a manifest could. The auditor must find its claims that break the allocation rule.
contract ForgedOffering {
    event DepositRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 assets
    );
    event OfferingClosed(
        uint256[2] requested, uint256[2] sold, uint256[2] takenUp, uint256 reserve, uint256 costs, uint256 proceeds
    );
    event DepositClaimed(
        address indexed controller,
        uint256 indexed requestId,
        address sender,
        uint256 assets,
        uint256 shares,
        uint256 refund,
        bool refundPaid
    );

    IDealOffering private immutable _REAL;

    constructor(IDealOffering real) {
        _REAL = real;
    }

    function config() external view returns (IDealOffering.Config memory) {
        return _REAL.config();
    }

    function costs() external view returns (IDealOffering.Cost[] memory) {
        return _REAL.costs();
    }

    function stablecoin() external view returns (address) {
        return _REAL.stablecoin();
    }

    function forgeRequest(address controller, uint256 requestId, uint256 assets) external {
        emit DepositRequest(controller, controller, requestId, msg.sender, assets);
    }

    function forgeClose(uint256[2] calldata requested, uint256[2] calldata sold, uint256 reserve, uint256 costs_,
                        uint256 proceeds) external {
        uint256[2] memory none;
        emit OfferingClosed(requested, sold, none, reserve, costs_, proceeds);
    }

    function forgeClaim(address controller, uint256 requestId, uint256 assets, uint256 shares) external {
        emit DepositClaimed(controller, requestId, msg.sender, assets, shares, assets - shares, true);
    }
}
