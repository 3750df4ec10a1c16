// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title BoundedPausable
/// @notice OpenZeppelin's Pausable with a limit: a pause lasts at most `MAX_PAUSE`, after which the contract is
///         unpaused by itself (`paused()` is false) and anyone may clear the flag; a new pause may start only a
///         `MAX_PAUSE` after the previous one expired, so no key can keep holders' money frozen by pausing again.
/// @dev Holds no storage of its own: the derived contract keeps the expiry where it packs best and exposes it
///      through `_pauseExpiry`/`_setPauseExpiry` (the token keeps its transfer path at one cold read).
abstract contract BoundedPausable is Pausable {
    /// @notice The longest a pause lasts, and the least time between the end of one pause and the next.
    uint256 public constant MAX_PAUSE = 14 days;

    /// @notice Thrown when pausing again before the cool-down after the previous pause has passed.
    error PauseCoolingDown(uint256 allowedFrom, uint256 now_);
    /// @notice Thrown when someone without the pauser's role lifts a pause before it expires.
    error PauseNotExpired(uint256 expiresAt, uint256 now_);

    /// @notice Emitted with every pause: when it ends by itself.
    event PauseExpires(uint256 expiresAt);

    function _pauseExpiry() internal view virtual returns (uint256);

    function _setPauseExpiry(uint256 expiresAt) internal virtual;

    /// @notice True while a pause is in force (at most `MAX_PAUSE` after it started).
    function paused() public view virtual override returns (bool) {
        return super.paused() && block.timestamp < _pauseExpiry();
    }

    /// @notice When the current (or last) pause ends by itself; 0 if the contract was never paused.
    function pauseExpiresAt() external view returns (uint256) {
        return _pauseExpiry();
    }

    /// @dev Unpausing needs only the flag to be set: after expiry anyone clears it (see `_liftPause`).
    function _requirePaused() internal view virtual override {
        if (!super.paused()) revert ExpectedPause();
    }

    function _boundedPause() internal {
        uint256 last = _pauseExpiry();
        require(last == 0 || block.timestamp >= last + MAX_PAUSE, PauseCoolingDown(last + MAX_PAUSE, block.timestamp));
        if (super.paused()) _unpause(); // an expired pause still flagged: clear it first
        uint256 expiresAt = block.timestamp + MAX_PAUSE;
        _setPauseExpiry(expiresAt);
        _pause();
        emit PauseExpires(expiresAt);
    }

    /// @param authorised the caller holds the pauser's role (may lift the pause before it expires)
    function _liftPause(bool authorised) internal {
        uint256 expiresAt = _pauseExpiry();
        require(authorised || block.timestamp >= expiresAt, PauseNotExpired(expiresAt, block.timestamp));
        _unpause();
    }
}
