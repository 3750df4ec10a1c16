// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TestStablecoin
/// @notice A 6-decimal stand-in for USDC on local development chains, mintable by its owner.
/// @dev Deliberately not checked: nothing stops deployment on a public chain here; the Python deploy code refuses
///      to deploy it on a chain that is not a local development chain unless explicitly forced.
contract TestStablecoin is ERC20, Ownable {
    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when a mint would create no tokens.
    error ZeroMint(address to);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when the owner mints `amount` to `to`.
    event Minted(address indexed to, uint256 amount);
    /// @notice Emitted when the owner moves `amount` out of `from` without its consent.
    event Seized(address indexed from, address indexed to, uint256 amount);

    // ------------------------------------------------------------------------------------------- constructor
    constructor(string memory name_, string memory symbol_, address owner_) ERC20(name_, symbol_) Ownable(owner_) {}

    // ---------------------------------------------------------------------------------------------- external
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` smallest units to `to`.
    function mint(address to, uint256 amount) external onlyOwner {
        require(amount != 0, ZeroMint(to));
        _mint(to, amount);
        emit Minted(to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` without `from`'s consent, as a regulated stablecoin's issuer can
    ///         (freeze-and-seize). It exists so that the auditor's replay can be shown to catch money leaving the
    ///         pool outside its waterfall.
    function seize(address from, address to, uint256 amount) external onlyOwner {
        _transfer(from, to, amount);
        emit Seized(from, to, amount);
    }
}
