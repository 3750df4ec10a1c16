// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IFundsDistributionToken} from "../interfaces/IFundsDistributionToken.sol";

/// @title ReentrantStablecoin
/// @notice A hostile stablecoin for tests: when the armed target pays someone with it, it calls the target's
///         `claim()` again from inside that payment, the classic re-entrancy on a claim.
/// @dev Test-only. Anyone may mint and arm it.
contract ReentrantStablecoin is ERC20 {
    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when the re-entrant call is armed against `target` (or disarmed with the zero address).
    event Armed(address indexed target);

    // ------------------------------------------------------------------------------------------------ storage
    address private _target;

    // ------------------------------------------------------------------------------------------- constructor
    constructor() ERC20("Hostile USD", "HUSD") {}

    // ---------------------------------------------------------------------------------------------- external
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target) external {
        _target = target;
        emit Armed(target);
    }

    function target() external view returns (address) {
        return _target;
    }

    // ---------------------------------------------------------------------------------------------- internal
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address armed = _target;
        if (armed != address(0) && from == armed) {
            IFundsDistributionToken(armed).claim();
        }
    }
}
