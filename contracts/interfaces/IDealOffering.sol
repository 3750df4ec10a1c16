// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDealOffering
/// @notice The primary offering of a deal's two tranches at par (one token unit for one stablecoin unit), in the
///         shape of ERC-7540's asynchronous deposit requests: an allowed investor requests a deposit into a tranche
///         by paying stablecoin (`requestDeposit`), may cancel it while the window is open, and after the close
///         claims its allocation of tokens and the refund of what was not allocated (`claimDeposit`). Requests are
///         aggregated per controller: the request id is the tranche (0 senior, 1 junior).
/// @dev Allocation rule when a tranche is over-subscribed: with S the tranche's size, P the stablecoin requested
///      for it at the close, and C the requests already claimed when a controller with request a claims, the
///      controller receives floor((C + a) * S / P) - floor(C * S / P) tokens and a - that as a refund. Each share is
///      the pro-rata a * S / P rounded down or up by at most one unit, and once every request is claimed the
///      allocations sum to exactly floor(P * S / P) = S, whatever the order of the claims. The close does not loop
///      over subscribers; each claim is O(1).
interface IDealOffering {
    /// @notice What the deal fixed at deployment.
    /// @param openTime requests are accepted from this time
    /// @param closeTime ... until this time; the close runs from it
    /// @param minTicket the least a controller's request for a tranche may add up to (0: no minimum)
    /// @param maxTicket the most a controller's request for a tranche may add up to
    /// @param reserveAtClose stablecoin sent to the pool's reserve (DSRA) at the close
    /// @param treasury the issuer's treasury: receives the proceeds, and the tranche taken up when under-subscribed
    /// @param takeUpSenior the most of the senior tranche the issuer takes up when it is under-subscribed (0: cancel)
    /// @param takeUpJunior the same for the junior tranche
    struct Config {
        uint64 openTime;
        uint64 closeTime;
        uint128 minTicket;
        uint128 maxTicket;
        uint128 reserveAtClose;
        address treasury;
        uint128 takeUpSenior;
        uint128 takeUpJunior;
    }

    /// @notice An upfront cost paid at the close.
    struct Cost {
        address recipient;
        uint128 amount;
    }

    /// @notice The offering's phase: requests are taken while Open (within the window); Closed after a close that
    ///         allocated; Cancelled when the close found a tranche short and not taken up, or the raise short of
    ///         the reserve and the costs.
    enum Phase {
        Open,
        Closed,
        Cancelled
    }

    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when a request id is not a tranche (0 senior, 1 junior).
    error UnknownTranche(uint256 requestId);
    /// @notice Thrown when a request comes outside the window [openTime, closeTime).
    error OutsideWindow(uint256 openTime, uint256 closeTime, uint256 now_);
    /// @notice Thrown when the offering is not in the phase the call needs.
    error WrongPhase(Phase expected, Phase actual);
    /// @notice Thrown when the close is called before the window ends.
    error WindowStillOpen(uint256 closeTime, uint256 now_);
    /// @notice Thrown when the payer is not the caller (operators are not supported).
    error OwnerNotCaller(address owner, address caller);
    /// @notice Thrown when the controller could not receive the tranche's tokens (ERC-1404 code of the token).
    error ControllerRestricted(uint8 code, address controller);
    /// @notice Thrown when a controller's request would add up to less than the minimum or more than the maximum.
    error TicketOutOfRange(uint256 total, uint256 minTicket, uint256 maxTicket);
    /// @notice Thrown when a request of 0, or a claim or cancellation with nothing to settle.
    error NothingRequested(uint256 requestId, address controller);
    /// @notice Thrown when the caller may not cancel another controller's request.
    error NotController(address controller, address caller);
    /// @notice Thrown when a withdrawal of an owed payment finds nothing owed.
    error NothingOwed(address account);
    /// @notice Thrown at deployment when the terms cannot work.
    error InvalidOffering(string reason);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice ERC-7540: `owner` paid `assets` for `controller`'s request in tranche `requestId`.
    event DepositRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 assets
    );
    /// @notice `controller` cancelled its pending request in tranche `requestId` and was refunded `assets`.
    event DepositRequestCancelled(address indexed controller, uint256 indexed requestId, uint256 assets);
    /// @notice The close allocated: per tranche the stablecoin requested and the tokens sold and taken up; the raise
    ///         (the stablecoin that bought tokens) went to the reserve, the costs and the treasury's proceeds.
    event OfferingClosed(
        uint256[2] requested, uint256[2] sold, uint256[2] takenUp, uint256 reserve, uint256 costs, uint256 proceeds
    );
    /// @notice The close cancelled the offering: `tranche` (2: the raise) needed `needed` and had `requested`.
    event OfferingCancelled(uint256 tranche, uint256 requested, uint256 needed);
    /// @notice The issuer's treasury took up `amount` tokens of an under-subscribed tranche.
    event TakenUp(uint256 indexed requestId, address indexed treasury, uint256 amount);
    /// @notice A payment of the close: `kind` 0 reserve, 1 cost, 2 proceeds; `paid` false when the stablecoin
    ///         refused the push (a blacklisted recipient): the amount is then owed and withdrawn by `withdrawOwed`.
    event CloseRouted(uint8 indexed kind, address indexed recipient, uint256 amount, bool paid);
    /// @notice `controller`'s request of `assets` in tranche `requestId` settled: `shares` tokens and `refund`
    ///         stablecoin (`refundPaid` false: owed, see `withdrawOwed`).
    event DepositClaimed(
        address indexed controller,
        uint256 indexed requestId,
        address sender,
        uint256 assets,
        uint256 shares,
        uint256 refund,
        bool refundPaid
    );
    /// @notice Every token of tranche `requestId` is delivered; its issuance is closed.
    event TrancheComplete(uint256 indexed requestId, uint256 supply);
    /// @notice `account` withdrew `amount` it was owed.
    event OwedWithdrawn(address indexed account, uint256 amount);

    // --------------------------------------------------------------------------------------------- functions
    /// @notice ERC-7540: pays `assets` of stablecoin from `owner` (the caller) for `controller`'s request in tranche
    ///         `requestId`; the controller must be able to receive the tranche's tokens. Returns the request id.
    function requestDeposit(uint256 requestId, uint256 assets, address controller, address owner)
        external
        returns (uint256);

    /// @notice Cancels `controller`'s pending request in tranche `requestId` while the window is open and refunds it
    ///         to the controller (the caller).
    function cancelDepositRequest(uint256 requestId, address controller) external;

    /// @notice After the window: allocates, or cancels the offering under the deal's rules; anyone may call it.
    function close() external;

    /// @notice After the close: settles `controller`'s request in tranche `requestId` (tokens and refund, or the
    ///         whole refund when cancelled) to the controller; anyone may push it.
    function claimDeposit(uint256 requestId, address controller) external returns (uint256 shares, uint256 refund);

    /// @notice Withdraws what a refused push left owed to the caller.
    function withdrawOwed() external returns (uint256 amount);

    /// @notice ERC-7540: the controller's request still pending (before the close).
    function pendingDepositRequest(uint256 requestId, address controller) external view returns (uint256);

    /// @notice ERC-7540: the controller's request ready to claim (after the close).
    function claimableDepositRequest(uint256 requestId, address controller) external view returns (uint256);

    function phase() external view returns (Phase);
    function config() external view returns (Config memory);
    function costs() external view returns (Cost[] memory);
    /// @notice A tranche's token, size, stablecoin requested (active), requests claimed, tokens delivered, taken up.
    function trancheState(uint256 requestId)
        external
        view
        returns (
            address token,
            uint256 size,
            uint256 requested,
            uint256 claimedAssets,
            uint256 delivered,
            uint256 takenUp
        );
    function owed(address account) external view returns (uint256);
    function pool() external view returns (address);
    function stablecoin() external view returns (address);
}
