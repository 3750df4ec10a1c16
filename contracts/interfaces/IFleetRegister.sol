// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IFleetRegister
/// @notice The asset behind a deal's tokens, on chain: the supplier orders the deal file names, every delivered batch
///         of servers and every lease, each changed only by a report the oracle's reporters signed (M of N, EIP-712 in
///         the oracle's domain); and the escrow of the raise's capex share, released to an order's recipient against
///         each attested delivery at the order's unit price, alongside the issuer's own equity, pro rata.
/// @dev Use of proceeds. With C the price of every server on order (`capexTotal`) and E the raise the offering put
///      in escrow at its close (at most C), a release of a delivery of price P, after deliveries of price R were
///      released, pays the recipient P: floor((R + P) * E / C) - floor(R * E / C) from the raise and the rest from
///      the equity the issuer paid in (`fundEquity`). So the raise never pays more than its share E / C of any
///      server, and once the whole fleet is released the raise is spent to the unit. A delivery whose equity share
///      is not in the escrow yet is recorded and released later by anyone (`release`), equity first.
///      At the long-stop (`settleLongStop`, anyone, once) what the raise has not released stops being capex: it
///      prepays the senior through the pool (beyond the senior's balance, the junior); the equity left goes back
///      to the treasury. After it nothing is released; a delivery attested after it is a fact of the fleet only.
///      Fleet and leases. A period's servers in service are the servers accepted before the period ends; they go
///      to the leases in force in lease order (a lease in force is active or re-let, and the period in its term),
///      each up to its servers: the rule the deal's calculator uses. A lease's rent counts toward the period's
///      contracted rent for the servers it gets, and its row of the period's tape may show at most those servers.
///      No admin: nobody can move the escrow but these rules. The deployer binds the pool and the offering once.
interface IFleetRegister {
    /// @notice A supplier's order, fixed at deployment from the deal file.
    struct Order {
        address recipient;
        uint32 servers;
        uint32 delivered;
        uint128 unitPrice;
    }

    /// @notice A batch of servers accepted after burn-in, as the reporters sign it (EIP-712 type `Delivery`).
    /// @param order the order's index (0-based, in the deal file's order)
    /// @param servers servers accepted
    /// @param serialsHash keccak256 of the batch's serial numbers (sorted, one per line, UTF-8)
    /// @param acceptedAt when they were accepted (unix seconds); deliveries are attested in this order
    /// @param site where they stand
    /// @param sequence the register's next attestation number (`sequence()`): a signature is good for one use
    struct Delivery {
        uint32 order;
        uint32 servers;
        bytes32 serialsHash;
        uint64 acceptedAt;
        string site;
        uint32 sequence;
    }

    /// @notice A delivery as recorded: its price and whether it was released.
    struct DeliveryRecord {
        uint32 order;
        uint32 servers;
        uint64 acceptedAt;
        uint32 fleetAfter;
        bool released;
        uint128 price;
    }

    /// @notice A lease's status. Active and Relet leases are in force in their term; the others get no servers.
    enum LeaseStatus {
        Active,
        Terminated,
        Defaulted,
        Relet
    }

    /// @notice A lease as the register holds it (rent in the stablecoin's smallest unit per server and period).
    struct Lease {
        uint128 rentPerServer;
        uint32 servers;
        uint32 startPeriod;
        uint32 endPeriod;
        LeaseStatus status;
    }

    /// @notice A change to the leases, as the reporters sign it (EIP-712 type `LeaseUpdate`): a new status, servers,
    ///         rent or end for lease `lease`, or a new lease when `lease` is `leaseCount() + 1` (a re-let or a new
    ///         lessee; its status Active or Relet).
    struct LeaseUpdate {
        uint32 lease;
        LeaseStatus status;
        uint32 servers;
        uint128 rentPerServer;
        uint32 startPeriod;
        uint32 endPeriod;
        string lessee;
        uint32 sequence;
    }

    /// @notice One lease's row of a period's tape (in the report's source currency, at the stablecoin's decimals).
    /// @param lease the lease (1-based); row i of a tape is lease i + 1
    /// @param servers servers of the lease in service in the period
    /// @param billed rent billed for the period
    /// @param collected rent collected for the period
    /// @param daysPastDue the lessee's oldest unpaid invoice, in days, at the period's end
    struct LeaseRow {
        uint32 lease;
        uint32 servers;
        uint128 billed;
        uint128 collected;
        uint32 daysPastDue;
    }

    /// @notice A tape's totals and what the register allows for its period.
    /// @param billed the rows' billed total
    /// @param servers the rows' servers
    /// @param contractedRent the rent of the servers the leases in force get in the period (stablecoin)
    /// @param fleet servers accepted before the period's end
    /// @param worstLease the lease with the most days past due (0: none past due)
    /// @param worstDaysPastDue its days past due
    struct TapeTotals {
        uint256 billed;
        uint256 servers;
        uint256 contractedRent;
        uint256 fleet;
        uint256 worstLease;
        uint256 worstDaysPastDue;
    }

    /// @notice The escrow's money: the raise put in, the equity paid in, what each released, what was prepaid and
    ///         returned at the long-stop.
    struct Escrow {
        uint256 raise;
        uint256 raiseReleased;
        uint256 equityFunded;
        uint256 equityReleased;
        uint256 releasedPrice;
        uint256 prepaid;
        uint256 equityReturned;
        bool settled;
    }

    // ------------------------------------------------------------------------------------------------ errors
    error ZeroAddress(uint256 index);
    error InvalidOrder(uint256 order);
    error InvalidLease(uint256 lease);
    error UnknownOrder(uint256 order, uint256 orders);
    error UnknownLease(uint256 lease, uint256 leases);
    error BeyondOrder(uint256 order, uint256 ordered, uint256 delivered, uint256 servers);
    error EmptyDelivery();
    error AcceptedInFuture(uint256 acceptedAt, uint256 nowTime);
    error DeliveryOutOfOrder(uint256 acceptedAt, uint256 previous);
    error WrongSequence(uint256 expected, uint256 got);
    error LeaseTermInvalid(uint256 lease, uint256 startPeriod, uint256 endPeriod, uint256 periodCount);
    error LeaseStatusInvalid(uint256 lease, uint8 status);
    error AlreadyBound();
    error NotDeployer(address caller);
    error DealMismatch(address pool, address offering);
    error NotFunder(address caller, address funder);
    error NoEscrow();
    error RaiseAlreadyFunded(uint256 raise);
    error RaiseAboveCapex(uint256 raise, uint256 capex);
    error RaiseNotFunded();
    error ZeroAmount();
    error TransferShortfall(uint256 expected, uint256 received);
    error AlreadyReleased(uint256 delivery);
    error UnknownDelivery(uint256 delivery, uint256 deliveries);
    error EquityShort(uint256 delivery, uint256 needed, uint256 available);
    error LongStopPassed(uint256 longStop, uint256 nowTime);
    error LongStopNotReached(uint256 longStop, uint256 nowTime);
    error AlreadySettled();
    error NothingOwed(address account);
    error TapeLength(uint256 period, uint256 leases, uint256 rows);
    error TapeOrder(uint256 row, uint256 lease);
    error TapeServersAboveLease(uint256 period, uint256 lease, uint256 servers, uint256 allowed);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice One per order at deployment.
    event OrderRegistered(uint256 indexed order, string supplier, address recipient, uint256 servers,
        uint256 unitPrice);
    /// @notice One per lease at deployment (status Active), and for each lease a `LeaseUpdate` adds.
    event LeaseRegistered(uint256 indexed lease, string lessee, uint256 servers, uint256 rentPerServer,
        uint256 startPeriod, uint256 endPeriod, LeaseStatus status);
    /// @notice A lease changed by an attested update (a new lease also emits `LeaseRegistered`).
    event LeaseUpdated(uint256 indexed lease, LeaseStatus oldStatus, LeaseStatus status, uint256 servers,
        uint256 rentPerServer, uint256 startPeriod, uint256 endPeriod, uint256 sequence, address[] signers);
    /// @notice A batch accepted, as attested; `fleetAfter` is every server accepted so far.
    event DeliveryAttested(uint256 indexed delivery, uint256 indexed order, uint256 servers, bytes32 serialsHash,
        uint256 acceptedAt, string site, uint256 price, uint256 fleetAfter, uint256 sequence, address[] signers);
    /// @notice A delivery's price paid to its order's recipient: `fromRaise + fromEquity`; owed when the
    ///         stablecoin refused the push (`paid` false).
    event Released(uint256 indexed delivery, uint256 indexed order, address indexed recipient, uint256 fromRaise,
        uint256 fromEquity, bool paid);
    event DealBound(address pool, address offering);
    event RaiseEscrowed(address indexed from, uint256 amount);
    event EquityFunded(address indexed from, uint256 amount);
    /// @notice The long-stop settlement: the raise not released prepaid through the pool, the equity left returned.
    event LongStopSettled(uint256 prepaid, uint256 equityReturned, address treasury, bool equityPaid, address by);
    event OwedWithdrawn(address indexed account, uint256 amount);

    // ---------------------------------------------------------------------------------------------- external
    function bindDeal(address pool, address offering) external;
    function fundRaise(uint256 amount) external;
    function fundEquity(uint256 amount) external;
    function attestDelivery(Delivery calldata delivery, bytes[] calldata signatures) external returns (uint256 id);
    function release(uint256 delivery) external;
    function attestLeaseUpdate(LeaseUpdate calldata update, bytes[] calldata signatures) external;
    function settleLongStop() external;
    function withdrawOwed() external returns (uint256 amount);

    // ------------------------------------------------------------------------------------------------- views
    /// @notice Checks `tape` for `period` (ending at `periodEnd`) against the leases and the fleet and returns its
    ///         totals; reverts on a row out of order or above its lease's servers.
    function tapeTotals(uint256 period, uint256 periodEnd, LeaseRow[] calldata tape)
        external
        view
        returns (TapeTotals memory);
    /// @notice Servers accepted before `timestamp`.
    function fleetAt(uint256 timestamp) external view returns (uint256);
    function fleet() external view returns (uint256);
    function orderCount() external view returns (uint256);
    function orderOf(uint256 order) external view returns (Order memory);
    function leaseCount() external view returns (uint256);
    function leaseOf(uint256 lease) external view returns (Lease memory);
    function deliveryCount() external view returns (uint256);
    function deliveryOf(uint256 delivery) external view returns (DeliveryRecord memory);
    function escrow() external view returns (Escrow memory);
    function capexTotal() external view returns (uint256);
    function longStop() external view returns (uint64);
    function sequence() external view returns (uint256);
    function owed(address account) external view returns (uint256);
    function pool() external view returns (address);
    function offering() external view returns (address);
    function oracle() external view returns (address);
    function treasury() external view returns (address);
    function stablecoin() external view returns (address);
    function periodCount() external view returns (uint32);
    function deliveryDigest(Delivery calldata delivery) external view returns (bytes32);
    function leaseUpdateDigest(LeaseUpdate calldata update) external view returns (bytes32);
}
