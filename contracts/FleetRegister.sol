// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IFleetRegister} from "./interfaces/IFleetRegister.sol";
import {IQuorumRevenueOracle} from "./interfaces/IQuorumRevenueOracle.sol";
import {ILeasePool} from "./interfaces/ILeasePool.sol";
import {IDealOffering} from "./interfaces/IDealOffering.sol";

/// @title FleetRegister
/// @notice The deal's fleet, leases and proceeds escrow (see `IFleetRegister`). Reports are signed by the oracle's
///         reporters in the oracle's EIP-712 domain; the oracle checks the quorum for this register alone.
/// @dev Deliberately not checked: that the servers exist (the quorum vouches for them, the serial-list hash ties
///      the attestation to the burn-in records); who sends an attestation (the signatures are the authority).
contract FleetRegister is IFleetRegister, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The EIP-712 type hash of `Delivery`.
    bytes32 public constant DELIVERY_TYPEHASH = keccak256(
        "Delivery(uint32 order,uint32 servers,bytes32 serialsHash,uint64 acceptedAt,string site,uint32 sequence)"
    );
    /// @notice The EIP-712 type hash of `LeaseUpdate`.
    bytes32 public constant LEASE_UPDATE_TYPEHASH = keccak256(
        "LeaseUpdate(uint32 lease,uint8 status,uint32 servers,uint128 rentPerServer,uint32 startPeriod,uint32 endPeriod,string lessee,uint32 sequence)"
    );

    IERC20 private immutable _stablecoin;
    IQuorumRevenueOracle private immutable _oracle;
    address private immutable _treasury;
    address private immutable _deployer;
    uint64 private immutable _longStop;
    uint32 private immutable _periodCount;
    uint256 private immutable _capexTotal;

    address private _pool;
    address private _offering;
    bool private _bound;
    uint32 private _sequence;

    Order[] private _orders;
    Lease[] private _leases;
    DeliveryRecord[] private _deliveries;
    Escrow private _escrow;
    mapping(address account => uint256 amount) private _owed;

    /// @param stablecoin_ the stablecoin the escrow holds
    /// @param oracle_ the deal's oracle: its reporters attest, in its EIP-712 domain
    /// @param treasury_ the issuer's treasury: the equity left at the long-stop goes back to it
    /// @param longStop_ from this time nothing is released and the raise not released prepays the senior
    /// @param periodCount_ the deal's periods: a lease ends by the last
    /// @param orders_ the supplier orders (`delivered` must be 0)
    /// @param suppliers the orders' supplier names, in the same order
    /// @param leases_ the deal's leases (status Active)
    /// @param lessees the leases' lessee names, in the same order
    constructor(
        address stablecoin_,
        address oracle_,
        address treasury_,
        uint64 longStop_,
        uint32 periodCount_,
        Order[] memory orders_,
        string[] memory suppliers,
        Lease[] memory leases_,
        string[] memory lessees
    ) {
        require(stablecoin_ != address(0), ZeroAddress(0));
        require(oracle_ != address(0), ZeroAddress(1));
        require(treasury_ != address(0), ZeroAddress(2));
        require(orders_.length == suppliers.length && orders_.length != 0, InvalidOrder(orders_.length));
        require(leases_.length == lessees.length, InvalidLease(leases_.length));
        uint256 capex = 0;
        for (uint256 i; i < orders_.length; ++i) {
            Order memory o = orders_[i];
            require(o.recipient != address(0) && o.servers != 0 && o.unitPrice != 0 && o.delivered == 0,
                InvalidOrder(i));
            capex += uint256(o.servers) * o.unitPrice;
            _orders.push(o);
            emit OrderRegistered(i, suppliers[i], o.recipient, o.servers, o.unitPrice);
        }
        for (uint256 i; i < leases_.length; ++i) {
            Lease memory l = leases_[i];
            _checkLease(i + 1, l, periodCount_);
            require(l.status == LeaseStatus.Active, LeaseStatusInvalid(i + 1, uint8(l.status)));
            _leases.push(l);
            emit LeaseRegistered(i + 1, lessees[i], l.servers, l.rentPerServer, l.startPeriod, l.endPeriod, l.status);
        }
        _stablecoin = IERC20(stablecoin_);
        _oracle = IQuorumRevenueOracle(oracle_);
        _treasury = treasury_;
        _deployer = msg.sender;
        _longStop = longStop_;
        _periodCount = periodCount_;
        _capexTotal = capex;
    }

    // ---------------------------------------------------------------------------------------------- external
    /// @inheritdoc IFleetRegister
    /// @dev Once, by the deployer: the pool that takes the long-stop prepayment (its `register()` must be this) and
    ///      the offering that escrows the raise (its pool must be that pool; zero for a deal without one).
    function bindDeal(address pool_, address offering_) external {
        require(msg.sender == _deployer, NotDeployer(msg.sender));
        require(!_bound, AlreadyBound());
        require(pool_ != address(0), ZeroAddress(3));
        require(ILeasePool(pool_).register() == address(this) && ILeasePool(pool_).stablecoin() == address(_stablecoin)
            && ILeasePool(pool_).oracle() == address(_oracle), DealMismatch(pool_, offering_));
        require(offering_ == address(0) || IDealOffering(offering_).pool() == pool_, DealMismatch(pool_, offering_));
        _bound = true;
        _pool = pool_;
        _offering = offering_;
        emit DealBound(pool_, offering_);
    }

    /// @inheritdoc IFleetRegister
    function fundRaise(uint256 amount) external nonReentrant {
        address funder = _offering;
        require(funder != address(0) && msg.sender == funder, NotFunder(msg.sender, funder));
        require(_escrow.raise == 0, RaiseAlreadyFunded(_escrow.raise));
        require(!_escrow.settled, AlreadySettled());
        require(amount != 0, ZeroAmount());
        require(amount <= _capexTotal, RaiseAboveCapex(amount, _capexTotal));
        _pull(amount);
        _escrow.raise = amount;
        emit RaiseEscrowed(msg.sender, amount);
    }

    /// @inheritdoc IFleetRegister
    function fundEquity(uint256 amount) external nonReentrant {
        require(_offering != address(0), NoEscrow());
        require(!_escrow.settled, AlreadySettled());
        require(amount != 0, ZeroAmount());
        _pull(amount);
        _escrow.equityFunded += amount;
        emit EquityFunded(msg.sender, amount);
    }

    /// @inheritdoc IFleetRegister
    function attestDelivery(Delivery calldata d, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 id)
    {
        require(d.order < _orders.length, UnknownOrder(d.order, _orders.length));
        require(d.servers != 0, EmptyDelivery());
        require(d.acceptedAt <= block.timestamp, AcceptedInFuture(d.acceptedAt, block.timestamp));
        _useSequence(d.sequence);
        address[] memory signers = _oracle.verifyAttestation(_hashDelivery(d), signatures);
        DeliveryRecord memory r = _record(d);
        id = _deliveries.length - 1;
        emit DeliveryAttested(id, d.order, d.servers, d.serialsHash, d.acceptedAt, d.site, r.price, r.fleetAfter,
            d.sequence, signers);
        // Released at once when the rules allow it now; otherwise recorded, for `release` later.
        if (_offering != address(0) && _escrow.raise != 0 && !_escrow.settled && block.timestamp < _longStop) {
            (, uint256 fromEquity) = _split(r.price);
            if (_escrow.equityFunded - _escrow.equityReleased >= fromEquity) _release(id);
        }
    }

    /// @dev Checks `d` against the order and the last delivery, and records it.
    function _record(Delivery calldata d) private returns (DeliveryRecord memory r) {
        uint256 count = _deliveries.length;
        uint32 fleetBefore = 0;
        if (count != 0) {
            DeliveryRecord storage last = _deliveries[count - 1];
            require(d.acceptedAt >= last.acceptedAt, DeliveryOutOfOrder(d.acceptedAt, last.acceptedAt));
            fleetBefore = last.fleetAfter;
        }
        Order storage o = _orders[d.order];
        require(uint256(o.delivered) + d.servers <= o.servers, BeyondOrder(d.order, o.servers, o.delivered, d.servers));
        o.delivered += d.servers;
        r = DeliveryRecord({
            order: d.order,
            servers: d.servers,
            acceptedAt: d.acceptedAt,
            fleetAfter: fleetBefore + d.servers,
            released: false,
            price: uint128(uint256(d.servers) * o.unitPrice) // at most the order's price, from uint128s
        });
        _deliveries.push(r);
    }

    /// @inheritdoc IFleetRegister
    function release(uint256 delivery) external nonReentrant {
        require(delivery < _deliveries.length, UnknownDelivery(delivery, _deliveries.length));
        require(_offering != address(0), NoEscrow());
        require(!_deliveries[delivery].released, AlreadyReleased(delivery));
        require(block.timestamp < _longStop && !_escrow.settled, LongStopPassed(_longStop, block.timestamp));
        require(_escrow.raise != 0, RaiseNotFunded());
        (, uint256 fromEquity) = _split(_deliveries[delivery].price);
        uint256 available = _escrow.equityFunded - _escrow.equityReleased;
        require(available >= fromEquity, EquityShort(delivery, fromEquity, available));
        _release(delivery);
    }

    /// @inheritdoc IFleetRegister
    function attestLeaseUpdate(LeaseUpdate calldata u, bytes[] calldata signatures) external {
        uint256 count = _leases.length;
        require(u.lease != 0 && u.lease <= count + 1, UnknownLease(u.lease, count));
        Lease memory l = Lease({
            rentPerServer: u.rentPerServer,
            servers: u.servers,
            startPeriod: u.startPeriod,
            endPeriod: u.endPeriod,
            status: u.status
        });
        _checkLease(u.lease, l, _periodCount);
        LeaseStatus old = LeaseStatus.Active;
        if (u.lease == count + 1) {
            require(u.status == LeaseStatus.Active || u.status == LeaseStatus.Relet,
                LeaseStatusInvalid(u.lease, uint8(u.status)));
        } else {
            old = _leases[u.lease - 1].status;
        }
        _useSequence(u.sequence);
        address[] memory signers = _oracle.verifyAttestation(_hashLeaseUpdate(u), signatures);
        if (u.lease == count + 1) {
            _leases.push(l);
            emit LeaseRegistered(u.lease, u.lessee, l.servers, l.rentPerServer, l.startPeriod, l.endPeriod, l.status);
        } else {
            _leases[u.lease - 1] = l;
        }
        emit LeaseUpdated(u.lease, old, u.status, u.servers, u.rentPerServer, u.startPeriod, u.endPeriod, u.sequence,
            signers);
    }

    /// @inheritdoc IFleetRegister
    function settleLongStop() external nonReentrant {
        require(block.timestamp >= _longStop, LongStopNotReached(_longStop, block.timestamp));
        require(!_escrow.settled, AlreadySettled());
        address pool_ = _pool;
        require(pool_ != address(0), NoEscrow());
        Escrow memory e = _escrow;
        uint256 prepaid = e.raise - e.raiseReleased;
        uint256 returned = e.equityFunded - e.equityReleased;
        _escrow.settled = true;
        _escrow.prepaid = prepaid;
        _escrow.equityReturned = returned;
        if (prepaid != 0) {
            _stablecoin.forceApprove(pool_, prepaid);
            ILeasePool(pool_).prepay(prepaid);
        }
        bool paid = returned == 0 || _stablecoin.trySafeTransfer(_treasury, returned);
        if (!paid) _owed[_treasury] += returned;
        emit LongStopSettled(prepaid, returned, _treasury, paid, msg.sender);
    }

    /// @inheritdoc IFleetRegister
    function withdrawOwed() external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender];
        require(amount != 0, NothingOwed(msg.sender));
        delete _owed[msg.sender];
        _stablecoin.safeTransfer(msg.sender, amount);
        emit OwedWithdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------- views
    /// @inheritdoc IFleetRegister
    function tapeTotals(uint256 period, uint256 periodEnd, LeaseRow[] calldata tape)
        external
        view
        returns (TapeTotals memory t)
    {
        uint256 count = _leases.length;
        require(tape.length == count, TapeLength(period, count, tape.length));
        t.fleet = _fleetAt(periodEnd);
        uint256 free = t.fleet;
        for (uint256 i; i < count; ++i) {
            LeaseRow calldata row = tape[i];
            require(row.lease == i + 1, TapeOrder(i, row.lease));
            Lease memory l = _leases[i];
            uint256 allowed = 0;
            if ((l.status == LeaseStatus.Active || l.status == LeaseStatus.Relet) && l.startPeriod <= period
                && period <= l.endPeriod) {
                allowed = Math.min(l.servers, free);
                free -= allowed;
                t.contractedRent += allowed * l.rentPerServer;
            }
            require(row.servers <= allowed, TapeServersAboveLease(period, i + 1, row.servers, allowed));
            t.billed += row.billed;
            t.servers += row.servers;
            if (row.daysPastDue > t.worstDaysPastDue) {
                t.worstDaysPastDue = row.daysPastDue;
                t.worstLease = i + 1;
            }
        }
    }

    /// @inheritdoc IFleetRegister
    function fleetAt(uint256 timestamp) external view returns (uint256) {
        return _fleetAt(timestamp);
    }

    /// @inheritdoc IFleetRegister
    function fleet() external view returns (uint256) {
        uint256 n = _deliveries.length;
        return n == 0 ? 0 : _deliveries[n - 1].fleetAfter;
    }

    function orderCount() external view returns (uint256) {
        return _orders.length;
    }

    function orderOf(uint256 order) external view returns (Order memory) {
        require(order < _orders.length, UnknownOrder(order, _orders.length));
        return _orders[order];
    }

    function leaseCount() external view returns (uint256) {
        return _leases.length;
    }

    function leaseOf(uint256 lease) external view returns (Lease memory) {
        require(lease != 0 && lease <= _leases.length, UnknownLease(lease, _leases.length));
        return _leases[lease - 1];
    }

    function deliveryCount() external view returns (uint256) {
        return _deliveries.length;
    }

    function deliveryOf(uint256 delivery) external view returns (DeliveryRecord memory) {
        require(delivery < _deliveries.length, UnknownDelivery(delivery, _deliveries.length));
        return _deliveries[delivery];
    }

    function escrow() external view returns (Escrow memory) {
        return _escrow;
    }

    function capexTotal() external view returns (uint256) {
        return _capexTotal;
    }

    function longStop() external view returns (uint64) {
        return _longStop;
    }

    function sequence() external view returns (uint256) {
        return _sequence;
    }

    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    function pool() external view returns (address) {
        return _pool;
    }

    function offering() external view returns (address) {
        return _offering;
    }

    function oracle() external view returns (address) {
        return address(_oracle);
    }

    function treasury() external view returns (address) {
        return _treasury;
    }

    function stablecoin() external view returns (address) {
        return address(_stablecoin);
    }

    function periodCount() external view returns (uint32) {
        return _periodCount;
    }

    /// @inheritdoc IFleetRegister
    function deliveryDigest(Delivery calldata d) external view returns (bytes32) {
        return _oracle.attestationDigest(_hashDelivery(d));
    }

    /// @inheritdoc IFleetRegister
    function leaseUpdateDigest(LeaseUpdate calldata u) external view returns (bytes32) {
        return _oracle.attestationDigest(_hashLeaseUpdate(u));
    }

    // ---------------------------------------------------------------------------------------------- internal
    /// @dev The raise's and the equity's parts of a release of price `price` after those already released.
    function _split(uint256 price) private view returns (uint256 fromRaise, uint256 fromEquity) {
        uint256 before = _escrow.releasedPrice;
        uint256 raise = _escrow.raise;
        fromRaise = Math.mulDiv(before + price, raise, _capexTotal) - Math.mulDiv(before, raise, _capexTotal);
        fromEquity = price - fromRaise;
    }

    function _release(uint256 id) private {
        DeliveryRecord storage r = _deliveries[id];
        (uint256 fromRaise, uint256 fromEquity) = _split(r.price);
        r.released = true;
        _escrow.releasedPrice += r.price;
        _escrow.raiseReleased += fromRaise;
        _escrow.equityReleased += fromEquity;
        address recipient = _orders[r.order].recipient;
        uint256 amount = fromRaise + fromEquity;
        bool paid = _stablecoin.trySafeTransfer(recipient, amount);
        if (!paid) _owed[recipient] += amount;
        emit Released(id, r.order, recipient, fromRaise, fromEquity, paid);
    }

    function _pull(uint256 amount) private {
        uint256 before = _stablecoin.balanceOf(address(this));
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _stablecoin.balanceOf(address(this)) - before;
        require(received >= amount, TransferShortfall(amount, received));
    }

    function _useSequence(uint32 given) private {
        uint32 expected = _sequence;
        require(given == expected, WrongSequence(expected, given));
        _sequence = expected + 1;
    }

    function _fleetAt(uint256 timestamp) private view returns (uint256) {
        for (uint256 i = _deliveries.length; i != 0; --i) {
            DeliveryRecord storage r = _deliveries[i - 1];
            if (r.acceptedAt < timestamp) return r.fleetAfter;
        }
        return 0;
    }

    function _checkLease(uint256 id, Lease memory l, uint32 periodCount_) private pure {
        require(
            l.startPeriod != 0 && l.startPeriod <= l.endPeriod && l.endPeriod <= periodCount_,
            LeaseTermInvalid(id, l.startPeriod, l.endPeriod, periodCount_)
        );
        require(l.servers != 0 || l.status != LeaseStatus.Active, InvalidLease(id));
    }

    function _hashDelivery(Delivery calldata d) private pure returns (bytes32) {
        return keccak256(abi.encode(DELIVERY_TYPEHASH, d.order, d.servers, d.serialsHash, d.acceptedAt,
            keccak256(bytes(d.site)), d.sequence));
    }

    function _hashLeaseUpdate(LeaseUpdate calldata u) private pure returns (bytes32) {
        return keccak256(abi.encode(LEASE_UPDATE_TYPEHASH, u.lease, uint8(u.status), u.servers, u.rentPerServer,
            u.startPeriod, u.endPeriod, keccak256(bytes(u.lessee)), u.sequence));
    }
}
