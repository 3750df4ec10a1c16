// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IDealOffering} from "./interfaces/IDealOffering.sol";
import {IFleetRegister} from "./interfaces/IFleetRegister.sol";
import {ILeasePool} from "./interfaces/ILeasePool.sol";
import {ITrancheToken} from "./interfaces/ITrancheToken.sol";

/// @title DealOffering
/// @notice Sells a deal's senior and junior tranches at par for stablecoin over a window the deal fixes, then, in one
///         transaction anyone may send after the window, allocates them and routes the raise: the reserve (DSRA)
///         into the pool, the upfront costs to their recipients, the rest to the issuer's treasury. Each investor
///         claims (or anyone pushes) its own tokens and refund afterwards. See `IDealOffering` for the allocation
///         rule, who may pay, the delivery and the way out of a close that keeps reverting.
/// @dev Accounting, to the unit: every unit paid in is, at any time, pending in a request, refunded (at a
///      cancellation or a claim), or part of the raise; the raise is exactly the reserve plus the costs plus the
///      proceeds, and equals the tokens sold at par. The offering holds, until each claim, the stablecoin of the
///      requests not yet claimed and what refused pushes left owed, nothing else (stablecoin sent to it otherwise is
///      not credited to anyone). Tokens: the close mints each tranche's whole size to the offering (`mintHeld`) and
///      closes its issuance; the offering then holds exactly the units allotted or taken up and not yet delivered
///      plus those of requests not yet settled, and each leaves only by `deliverHeld` to its buyer, with the
///      distributions it accrued. It has no admin: its terms are fixed at deployment, and it holds the tokens'
///      ISSUER_ROLE only for that mint, that delivery and the closing of issuance.
///      Under-subscription rule: a tranche short of its size is taken up by the treasury (held for it like any
///      allocation, paid for by nothing but the proceeds it forgoes) when the shortfall is within the deal's take-up
///      for that tranche; otherwise, or when the raise cannot pay the reserve and the costs, the offering is
///      cancelled and every request is refunded in full.
///      Deliberately not checked: a stablecoin that charges a fee after the window makes the close revert (the pool
///      refuses a short reserve) and shortens what refunds deliver; `abandon` is the way out, and each refund is
///      sent in full from the offering's side.
contract DealOffering is IDealOffering, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev One tranche's book (two slots).
    struct Book {
        uint128 size;
        uint128 requested;
        uint128 claimedAssets;
        uint128 delivered;
    }

    uint8 private constant _TRANCHES = 2;
    uint8 private constant _ROUTE_RESERVE = 0;
    uint8 private constant _ROUTE_COST = 1;
    uint8 private constant _ROUTE_PROCEEDS = 2;
    uint8 private constant _ROUTE_ESCROW = 3;
    uint256 private constant _MAX_COSTS = 8;

    IERC20 private immutable _stablecoin;
    ILeasePool private immutable _pool;
    address private immutable _senior;
    address private immutable _junior;

    Config private _config;
    Cost[] private _costs;
    Phase private _phase;
    Book[2] private _books;
    uint128[2] private _takenUp;
    mapping(uint256 tranche => mapping(address controller => uint256 assets)) private _requests;
    mapping(uint256 tranche => mapping(address controller => uint256 shares)) private _held;
    mapping(address controller => mapping(address payer => bool)) private _payers;
    mapping(address account => uint256 amount) private _owed;

    /// @param config_ the window, its grace, tickets, reserve, treasury and take-up (see `IDealOffering.Config`)
    /// @param costs_ the upfront costs paid at the close (at most 8)
    /// @param pool_ the deal's pool: its stablecoin and tranche tokens are the offering's; its reserve is funded
    /// @param seniorSize tokens of the senior tranche to sell: the pool's senior face
    /// @param juniorSize tokens of the junior tranche to sell
    constructor(Config memory config_, Cost[] memory costs_, ILeasePool pool_, uint256 seniorSize, uint256 juniorSize) {
        require(config_.openTime < config_.closeTime, InvalidOffering("openTime must be before closeTime"));
        require(config_.closeGrace != 0, InvalidOffering("closeGrace must be positive"));
        require(config_.treasury != address(0), InvalidOffering("treasury is the zero address"));
        require(config_.escrow != address(0), InvalidOffering("escrow is the zero address"));
        require(
            config_.maxTicket != 0 && config_.minTicket <= config_.maxTicket,
            InvalidOffering("tickets: 0 < maxTicket and minTicket <= maxTicket")
        );
        require(costs_.length <= _MAX_COSTS, InvalidOffering("at most 8 upfront costs"));
        require(seniorSize == pool_.seniorFace(), InvalidOffering("seniorSize must be the pool's senior face"));
        require(juniorSize != 0, InvalidOffering("juniorSize must be positive"));
        uint256 costTotal = 0;
        for (uint256 i; i < costs_.length; ++i) {
            require(costs_[i].recipient != address(0), InvalidOffering("a cost's recipient is the zero address"));
            costTotal += costs_[i].amount;
            _costs.push(costs_[i]);
        }
        require(
            config_.reserveAtClose + costTotal <= seniorSize + juniorSize,
            InvalidOffering("the reserve and the costs exceed the tranches")
        );
        _stablecoin = IERC20(pool_.stablecoin());
        _pool = pool_;
        _senior = pool_.seniorToken();
        _junior = pool_.juniorToken();
        _config = config_;
        _books[0].size = SafeCast.toUint128(seniorSize);
        _books[1].size = SafeCast.toUint128(juniorSize);
    }

    // ---------------------------------------------------------------------------------------------- external
    /// @inheritdoc IDealOffering
    function subscribe(uint256 tranche, uint256 assets, address controller)
        external
        nonReentrant
        returns (uint256 total)
    {
        uint8 t = _tranche(tranche);
        _requirePhase(Phase.Open);
        Config memory c = _config;
        require(
            block.timestamp >= c.openTime && block.timestamp < c.closeTime,
            OutsideWindow(c.openTime, c.closeTime, block.timestamp)
        );
        require(controller == msg.sender || _payers[controller][msg.sender], NotPayer(controller, msg.sender));
        require(assets != 0, NothingRequested(tranche, controller));
        uint8 code = ITrancheToken(_token(t)).detectMintRestriction(controller);
        require(code == 0, ControllerRestricted(code, controller));
        total = _requests[t][controller] + assets;
        require(total >= c.minTicket && total <= c.maxTicket, TicketOutOfRange(total, c.minTicket, c.maxTicket));

        uint256 before = _stablecoin.balanceOf(address(this));
        _stablecoin.safeTransferFrom(msg.sender, address(this), assets);
        uint256 received = _stablecoin.balanceOf(address(this)) - before;
        require(received >= assets, ShortPayment(assets, received));
        _requests[t][controller] = total;
        _books[t].requested += SafeCast.toUint128(assets);
        emit DepositRequest(controller, msg.sender, t, msg.sender, assets);
    }

    /// @inheritdoc IDealOffering
    function setPayer(address payer, bool approved) external {
        _payers[msg.sender][payer] = approved;
        emit PayerSet(msg.sender, payer, approved);
    }

    /// @inheritdoc IDealOffering
    function cancelSubscription(uint256 tranche) external nonReentrant {
        uint8 t = _tranche(tranche);
        _requirePhase(Phase.Open);
        require(block.timestamp < _config.closeTime, OutsideWindow(_config.openTime, _config.closeTime, block.timestamp));
        uint256 assets = _requests[t][msg.sender];
        require(assets != 0, NothingRequested(tranche, msg.sender));
        delete _requests[t][msg.sender];
        _books[t].requested -= uint128(assets);
        _stablecoin.safeTransfer(msg.sender, assets);
        emit DepositRequestCancelled(msg.sender, t, assets);
    }

    /// @inheritdoc IDealOffering
    function close() external nonReentrant {
        _requirePhase(Phase.Open);
        Config memory c = _config;
        require(block.timestamp >= c.closeTime, WindowStillOpen(c.closeTime, block.timestamp));
        uint256[2] memory requested = [uint256(0), 0];
        uint256[2] memory sold = [uint256(0), 0];
        uint256[2] memory takenUp = [uint256(0), 0];
        uint128[2] memory takeUpMax = [c.takeUpSenior, c.takeUpJunior];
        for (uint8 t; t < _TRANCHES; ++t) {
            Book memory b = _books[t];
            requested[t] = b.requested;
            sold[t] = Math.min(b.requested, b.size);
            takenUp[t] = b.size - sold[t];
            if (takenUp[t] > takeUpMax[t]) return _cancel(t, b.requested, b.size - takeUpMax[t]);
        }
        uint256 raise = sold[0] + sold[1];
        uint256 costTotal = 0;
        Cost[] memory costs_ = _costs;
        for (uint256 i; i < costs_.length; ++i) {
            costTotal += costs_[i].amount;
        }
        if (raise < c.reserveAtClose + costTotal) return _cancel(_TRANCHES, raise, c.reserveAtClose + costTotal);

        _phase = Phase.Closed;
        uint256 proceeds = raise - c.reserveAtClose - costTotal;
        emit OfferingClosed(requested, sold, takenUp, c.reserveAtClose, costTotal, proceeds);
        for (uint8 t; t < _TRANCHES; ++t) {
            if (takenUp[t] != 0) {
                _takenUp[t] = uint128(takenUp[t]);
                _held[t][c.treasury] = takenUp[t];
                emit TakenUp(t, c.treasury, takenUp[t]);
            }
        }
        for (uint8 t; t < _TRANCHES; ++t) {
            ITrancheToken token = ITrancheToken(_token(t));
            uint256 size = _books[t].size;
            token.mintHeld(size);
            token.closeIssuance();
            emit TrancheComplete(t, size);
            if (takenUp[t] != 0) _tryDeliver(t, c.treasury);
        }
        if (c.reserveAtClose != 0) {
            _stablecoin.forceApprove(address(_pool), c.reserveAtClose);
            _pool.fundReserve(c.reserveAtClose);
            emit CloseRouted(_ROUTE_RESERVE, address(_pool), c.reserveAtClose, true);
        }
        for (uint256 i; i < costs_.length; ++i) {
            _push(_ROUTE_COST, costs_[i].recipient, costs_[i].amount);
        }
        // The capex share waits in the fleet register's escrow for the servers; beyond the fleet's price, the treasury.
        uint256 escrowed = Math.min(proceeds, IFleetRegister(c.escrow).capexTotal());
        if (escrowed != 0) {
            _stablecoin.forceApprove(c.escrow, escrowed);
            IFleetRegister(c.escrow).fundRaise(escrowed);
            emit CloseRouted(_ROUTE_ESCROW, c.escrow, escrowed, true);
        }
        _push(_ROUTE_PROCEEDS, c.treasury, proceeds - escrowed);
    }

    /// @inheritdoc IDealOffering
    function abandon() external nonReentrant {
        _requirePhase(Phase.Open);
        uint256 abandonableAt = uint256(_config.closeTime) + _config.closeGrace;
        require(block.timestamp >= abandonableAt, CloseGraceRunning(abandonableAt, block.timestamp));
        _phase = Phase.Cancelled;
        emit OfferingAbandoned([uint256(_books[0].requested), _books[1].requested], abandonableAt, msg.sender);
    }

    /// @inheritdoc IDealOffering
    function claim(uint256 tranche, address controller)
        external
        nonReentrant
        returns (uint256 shares, uint256 refund)
    {
        uint8 t = _tranche(tranche);
        Phase p = _phase;
        require(p != Phase.Open, WrongPhase(Phase.Closed, p));
        uint256 assets = _requests[t][controller];
        if (assets != 0) refund = _settle(t, controller, assets, p);
        if (_held[t][controller] == 0) {
            require(assets != 0, NothingRequested(tranche, controller));
            return (0, refund);
        }
        uint8 code;
        (shares, code) = _tryDeliver(t, controller);
        // A settlement (its refund) goes through whatever the controller's state; a mere delivery waits on it.
        require(code == 0 || assets != 0, ControllerRestricted(code, controller));
    }

    /// @inheritdoc IDealOffering
    function withdrawOwed() external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender];
        require(amount != 0, NothingOwed(msg.sender));
        delete _owed[msg.sender];
        _stablecoin.safeTransfer(msg.sender, amount);
        emit OwedWithdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------- views
    /// @inheritdoc IDealOffering
    function pendingOf(uint256 tranche, address controller) external view returns (uint256) {
        return _phase == Phase.Open ? _requests[_tranche(tranche)][controller] : 0;
    }

    /// @inheritdoc IDealOffering
    function claimableOf(uint256 tranche, address controller) external view returns (uint256) {
        return _phase == Phase.Open ? 0 : _requests[_tranche(tranche)][controller];
    }

    /// @inheritdoc IDealOffering
    function heldFor(uint256 tranche, address controller) external view returns (uint256) {
        return _held[_tranche(tranche)][controller];
    }

    /// @inheritdoc IDealOffering
    function isPayer(address controller, address payer) external view returns (bool) {
        return _payers[controller][payer];
    }

    /// @inheritdoc IDealOffering
    function phase() external view returns (Phase) {
        return _phase;
    }

    /// @inheritdoc IDealOffering
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @inheritdoc IDealOffering
    function costs() external view returns (Cost[] memory) {
        return _costs;
    }

    /// @inheritdoc IDealOffering
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
        )
    {
        uint8 t = _tranche(tranche);
        Book memory b = _books[t];
        return (_token(t), b.size, b.requested, b.claimedAssets, b.delivered, _takenUp[t]);
    }

    /// @inheritdoc IDealOffering
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    /// @inheritdoc IDealOffering
    function pool() external view returns (address) {
        return address(_pool);
    }

    /// @inheritdoc IDealOffering
    function stablecoin() external view returns (address) {
        return address(_stablecoin);
    }

    // ---------------------------------------------------------------------------------------------- internal
    function _cancel(uint256 tranche, uint256 requested, uint256 needed) private {
        _phase = Phase.Cancelled;
        emit OfferingCancelled(tranche, requested, needed);
    }

    /// @dev Settles a request of `assets`: allots its tokens (held for the controller) and pays its refund (owed
    ///      when the stablecoin refuses it); the whole request is refunded when the offering is cancelled.
    function _settle(uint8 t, address controller, uint256 assets, Phase p) private returns (uint256 refund) {
        delete _requests[t][controller];
        uint256 shares = 0;
        if (p == Phase.Cancelled) {
            refund = assets;
        } else {
            Book storage b = _books[t];
            uint256 size = b.size;
            uint256 requested = b.requested;
            uint256 before = b.claimedAssets;
            if (requested <= size) {
                shares = assets;
            } else {
                // the rule in IDealOffering: cumulative rounding, exact once every request is claimed
                shares = Math.mulDiv(before + assets, size, requested) - Math.mulDiv(before, size, requested);
            }
            refund = assets - shares;
            b.claimedAssets = uint128(before + assets);
            if (shares != 0) _held[t][controller] += shares;
        }
        bool paid = refund == 0 || _stablecoin.trySafeTransfer(controller, refund);
        if (!paid) _owed[controller] += refund;
        emit DepositClaimed(controller, t, msg.sender, assets, shares, refund, paid);
    }

    /// @dev Delivers the tokens held for `to` when it can receive them now; returns them (0 and the token's
    ///      restriction code otherwise, the tokens still held).
    function _tryDeliver(uint8 t, address to) private returns (uint256 shares, uint8 code) {
        ITrancheToken token = ITrancheToken(_token(t));
        code = token.detectMintRestriction(to);
        if (code != 0) return (0, code);
        shares = _held[t][to];
        delete _held[t][to];
        _books[t].delivered += uint128(shares); // at most the size, a uint128
        token.deliverHeld(to, shares);
        emit SharesDelivered(to, t, msg.sender, shares);
    }

    /// @dev Pays `amount` to `recipient`; a push the stablecoin refuses is owed instead.
    function _push(uint8 kind, address recipient, uint256 amount) private {
        if (amount == 0) return;
        bool paid = _stablecoin.trySafeTransfer(recipient, amount);
        if (!paid) _owed[recipient] += amount;
        emit CloseRouted(kind, recipient, amount, paid);
    }

    function _requirePhase(Phase expected) private view {
        require(_phase == expected, WrongPhase(expected, _phase));
    }

    function _tranche(uint256 tranche) private pure returns (uint8) {
        require(tranche < _TRANCHES, UnknownTranche(tranche));
        return uint8(tranche);
    }

    function _token(uint8 t) private view returns (address) {
        return t == 0 ? _senior : _junior;
    }
}
