// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BlacklistStablecoin
/// @notice Test double of a stablecoin whose issuer blacklists addresses, as USDC and USDT do: a blacklisted account
///         can neither send nor receive, so every transfer touching it reverts.
contract BlacklistStablecoin is ERC20, Ownable {
    mapping(address account => bool) public isBlacklisted;

    /// @notice Thrown, as USDC does, when a transfer touches a blacklisted account.
    error Blacklisted(address account);

    event BlacklistChanged(address indexed account, bool blacklisted);

    constructor(address owner_) ERC20("Blacklisting USD", "BUSD") Ownable(owner_) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    function setBlacklisted(address account, bool blacklisted) external onlyOwner {
        isBlacklisted[account] = blacklisted;
        emit BlacklistChanged(account, blacklisted);
    }

    function _update(address from, address to, uint256 value) internal override {
        require(!isBlacklisted[from], Blacklisted(from));
        require(!isBlacklisted[to], Blacklisted(to));
        super._update(from, to, value);
    }
}
