// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDealOffering
/// @notice The primary offering of a deal's two tranches at par (one token unit for one stablecoin unit). An allowed
///         investor (the controller) subscribes to a tranche by paying stablecoin (`subscribe`), may cancel while
///         the window is open, and after the close claims its allocation of tokens and the refund of what was not
///         allocated (`claim`). Requests are aggregated per controller and tranche (0 senior, 1 junior).
///         The flow is modelled on ERC-7540's asynchronous deposit (request, then claim) and its events keep
///         ERC-7540's `DepositRequest` shape, but the offering conforms to no standard: it sells two share tokens,
///         refunds an over-subscription and implements neither ERC-4626, ERC-7540, ERC-7887 nor ERC-165.
///         Who pays: the caller pays for a controller's request only when it is that controller or a payer the
///         controller approved (`setPayer`); nobody can grow another wallet's request unasked.
///         Delivery: the close mints every sold and taken-up unit to the offering and closes both tokens' issuance,
///         so the deal can run from the close whatever any buyer's state. A claim refunds at once and delivers the
///         tokens when the controller can receive them; while it cannot (frozen, KYC lapsed), its tokens wait in
///         the offering, with the distributions they accrue, until a later `claim` delivers them. One restricted
///         buyer delays only itself.
///         Way out: if no close has succeeded `closeGrace` seconds after the window's end (a close that keeps
///         reverting), anyone may `abandon` the offering; every request is then refunded in full by `claim`.
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
    /// @param closeGrace seconds after closeTime from which anyone may abandon an offering no close has ended
    /// @param minTicket the least a controller's request for a tranche may add up to (0: no minimum)
    /// @param maxTicket the most a controller's request for a tranche may add up to
    /// @param reserveAtClose stablecoin sent to the pool's reserve (DSRA) at the close
    /// @param treasury the issuer's treasury: receives the proceeds beyond the fleet's price, and the tranche taken up
    ///        when under-subscribed
    /// @param takeUpSenior the most of the senior tranche the issuer takes up when it is under-subscribed (0: cancel)
    /// @param takeUpJunior the same for the junior tranche
    /// @param escrow the deal's fleet register: the proceeds, up to the price of every server on order, go to its
    ///        escrow at the close (`IFleetRegister.fundRaise`), released only against attested deliveries
    struct Config {
        uint64 openTime;
        uint64 closeTime;
        uint64 closeGrace;
        uint128 minTicket;
        uint128 maxTicket;
        uint128 reserveAtClose;
        address treasury;
        address escrow;
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
    ///         the reserve and the costs, or when the offering was abandoned.
    enum Phase {
        Open,
        Closed,
        Cancelled
    }

    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when a tranche id is not 0 (senior) or 1 (junior).
    error UnknownTranche(uint256 tranche);
    /// @notice Thrown when a request comes outside the window [openTime, closeTime).
    error OutsideWindow(uint256 openTime, uint256 closeTime, uint256 now_);
    /// @notice Thrown when the offering is not in the phase the call needs.
    error WrongPhase(Phase expected, Phase actual);
    /// @notice Thrown when the close is called before the window ends.
    error WindowStillOpen(uint256 closeTime, uint256 now_);
    /// @notice Thrown when the caller pays for a controller that is not itself and has not approved it as a payer.
    error NotPayer(address controller, address caller);
    /// @notice Thrown when the controller cannot receive the tranche's tokens (ERC-1404 code of the token).
    error ControllerRestricted(uint8 code, address controller);
    /// @notice Thrown when a controller's request would add up to less than the minimum or more than the maximum.
    error TicketOutOfRange(uint256 total, uint256 minTicket, uint256 maxTicket);
    /// @notice Thrown when a request of 0, or a claim or cancellation with nothing to settle.
    error NothingRequested(uint256 tranche, address controller);
    /// @notice Thrown when the stablecoin delivered less than a request paid (a fee on transfer).
    error ShortPayment(uint256 paid, uint256 received);
    /// @notice Thrown when the offering is abandoned before its close's grace has run out.
    error CloseGraceRunning(uint256 abandonableAt, uint256 now_);
    /// @notice Thrown when a withdrawal of an owed payment finds nothing owed.
    error NothingOwed(address account);
    /// @notice Thrown at deployment when the terms cannot work.
    error InvalidOffering(string reason);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice `owner` (the payer, `sender`) paid `assets` for `controller`'s request in tranche `requestId`.
    event DepositRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 assets
    );
    /// @notice `controller` cancelled its pending request in tranche `requestId` and was refunded `assets`.
    event DepositRequestCancelled(address indexed controller, uint256 indexed requestId, uint256 assets);
    /// @notice `controller` approved (or revoked) `payer` to pay for its requests.
    event PayerSet(address indexed controller, address indexed payer, bool approved);
    /// @notice The close allocated: per tranche the stablecoin requested and the tokens sold and taken up; the raise
    ///         (the stablecoin that bought tokens) went to the reserve, the costs and the proceeds (the escrow's
    ///         capex share first, the rest to the treasury).
    event OfferingClosed(
        uint256[2] requested, uint256[2] sold, uint256[2] takenUp, uint256 reserve, uint256 costs, uint256 proceeds
    );
    /// @notice The close cancelled the offering: `tranche` (2: the raise) needed `needed` and had `requested`.
    event OfferingCancelled(uint256 tranche, uint256 requested, uint256 needed);
    /// @notice No close succeeded by `abandonableAt`; `sender` abandoned the offering with `requested` stablecoin
    ///         per tranche in the book: every request is refunded in full by `claim`.
    event OfferingAbandoned(uint256[2] requested, uint256 abandonableAt, address sender);
    /// @notice The issuer's treasury took up `amount` tokens of an under-subscribed tranche (held for it, delivered
    ///         as any allocation is).
    event TakenUp(uint256 indexed requestId, address indexed treasury, uint256 amount);
    /// @notice A payment of the close: `kind` 0 reserve, 1 cost, 2 proceeds to the treasury, 3 proceeds into the
    ///         fleet register's escrow; `paid` false when the stablecoin
    ///         refused the push (a blacklisted recipient): the amount is then owed and withdrawn by `withdrawOwed`.
    event CloseRouted(uint8 indexed kind, address indexed recipient, uint256 amount, bool paid);
    /// @notice `controller`'s request of `assets` in tranche `requestId` settled: `shares` tokens allotted (held for
    ///         it until a `SharesDelivered`) and `refund` stablecoin (`refundPaid` false: owed, see `withdrawOwed`).
    event DepositClaimed(
        address indexed controller,
        uint256 indexed requestId,
        address sender,
        uint256 assets,
        uint256 shares,
        uint256 refund,
        bool refundPaid
    );
    /// @notice `shares` tokens of tranche `requestId` held for `controller` were delivered to it.
    event SharesDelivered(address indexed controller, uint256 indexed requestId, address sender, uint256 shares);
    /// @notice Every token of tranche `requestId` is minted to the offering; its issuance is closed.
    event TrancheComplete(uint256 indexed requestId, uint256 supply);
    /// @notice `account` withdrew `amount` it was owed.
    event OwedWithdrawn(address indexed account, uint256 amount);

    // --------------------------------------------------------------------------------------------- functions
    /// @notice Pays `assets` of stablecoin from the caller for `controller`'s request in `tranche`; the caller must
    ///         be the controller or a payer it approved, and the controller must be able to receive the tranche's
    ///         tokens now. Returns the controller's whole request in the tranche.
    function subscribe(uint256 tranche, uint256 assets, address controller) external returns (uint256 total);

    /// @notice Approves (or revokes) `payer` to pay for the caller's requests.
    function setPayer(address payer, bool approved) external;

    /// @notice Cancels the caller's pending request in `tranche` while the window is open and refunds it at once.
    function cancelSubscription(uint256 tranche) external;

    /// @notice After the window: allocates, or cancels the offering under the deal's rules; anyone may call it.
    function close() external;

    /// @notice Once `closeTime + closeGrace` has passed with no successful close: cancels the offering; anyone may.
    function abandon() external;

    /// @notice After the close: settles `controller`'s request in `tranche` (tokens allotted and refund, or the
    ///         whole refund when cancelled) and delivers the tokens held for it when it can receive them; anyone may
    ///         push it. Once settled, a later call delivers what is still held (it reverts `ControllerRestricted`
    ///         while the controller cannot receive). Returns the tokens delivered and the refund of this call.
    function claim(uint256 tranche, address controller) external returns (uint256 shares, uint256 refund);

    /// @notice Withdraws what a refused push left owed to the caller.
    function withdrawOwed() external returns (uint256 amount);

    /// @notice The controller's request still pending (before the close).
    function pendingOf(uint256 tranche, address controller) external view returns (uint256);

    /// @notice The controller's request ready to settle (after the close).
    function claimableOf(uint256 tranche, address controller) external view returns (uint256);

    /// @notice Tokens of `tranche` allotted to `controller` (or taken up by the treasury) not yet delivered.
    function heldFor(uint256 tranche, address controller) external view returns (uint256);

    /// @notice Whether `controller` approved `payer` to pay for its requests.
    function isPayer(address controller, address payer) external view returns (bool);

    function phase() external view returns (Phase);
    function config() external view returns (Config memory);
    function costs() external view returns (Cost[] memory);
    /// @notice A tranche's token, size, stablecoin requested (active), requests claimed, tokens delivered out of the
    ///         offering, taken up.
    function trancheState(uint256 tranche)
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
