// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ---------------------------------------------------------------------------------------- restriction codes
// ERC-1404 restriction codes shared by the registry (which answers the investor-level ones) and the tranche tokens
// (which add pause, token-level freeze, balance and address checks). 0 always means "no restriction".

/// @dev No restriction: the transfer (or claim) succeeds.
uint8 constant CODE_SUCCESS = 0;
/// @dev The sender is not an allowed investor in the registry (never allowed, or revoked).
uint8 constant CODE_SENDER_NOT_ALLOWED = 1;
/// @dev The receiver is not an allowed investor in the registry.
uint8 constant CODE_RECEIVER_NOT_ALLOWED = 2;
/// @dev The sender's KYC expired (block.timestamp >= kycExpiry).
uint8 constant CODE_SENDER_KYC_EXPIRED = 3;
/// @dev The receiver's KYC expired.
uint8 constant CODE_RECEIVER_KYC_EXPIRED = 4;
/// @dev The sender is frozen, in the registry or by the token's agent.
uint8 constant CODE_SENDER_FROZEN = 5;
/// @dev The receiver is frozen, in the registry or by the token's agent.
uint8 constant CODE_RECEIVER_FROZEN = 6;
/// @dev The token is paused.
uint8 constant CODE_PAUSED = 7;
/// @dev The sender's balance is below the amount.
uint8 constant CODE_INSUFFICIENT_BALANCE = 8;
/// @dev The sender or the receiver is the zero address.
uint8 constant CODE_ZERO_ADDRESS = 9;
/// @dev A `transferFrom` whose spender (the caller, not the holder) is not an allowed, KYC-valid, unfrozen investor.
uint8 constant CODE_SPENDER_RESTRICTED = 10;

/// @title IComplianceSubscriber
/// @notice A token that keeps a local copy of its registry's investor records, pushed by the registry on every
///         change, so a transfer reads its compliance from the token's own storage instead of calling out.
interface IComplianceSubscriber {
    /// @notice Stores `investor`'s current registry record (only the token's registry may call).
    /// @param allowed the registry allows `investor` (false when never allowed or revoked)
    /// @param kycExpiry the investor's KYC is valid while block.timestamp < kycExpiry
    /// @param frozen the registry's agent froze `investor`
    function syncInvestor(address investor, bool allowed, uint48 kycExpiry, bool frozen) external;

    /// @notice The registry the token takes its investor records from.
    function registry() external view returns (address);
}

/// @title IComplianceRegistry
/// @notice Who may hold the deal's tranche tokens: investors allowed with a KYC expiry and a jurisdiction, and
///         frozen flags set by the agent. The registry is the source of truth; it pushes every change of an
///         investor's record to each token bound to it (IComplianceSubscriber), and transfers check the tokens'
///         copies. `restrictionOf` and `isCompliant` answer from the registry's own records, for off-chain use.
/// @dev Deployment order: registry, then each token (naming the registry), then `bindToken(token)` by the
///      registry's admin, then `syncInvestors(token, ...)` for investors allowed before the binding. Until a token
///      is bound and synced its copy is empty and every investor is "not allowed" there: it fails closed.
/// @dev Jurisdiction codes are ISO 3166-1 numeric country codes (e.g. 156 China, 344 Hong Kong, 702 Singapore,
///      840 United States); 0 is not a country and is rejected. The registry records them for the issuer's and the
///      auditor's reports; it does not block any jurisdiction by itself.
interface IComplianceRegistry {
    // ------------------------------------------------------------------------------------------------ types
    /// @notice One investor's record, packed into one storage slot.
    /// @param allowed the compliance officer allowed this wallet (cleared by revocation)
    /// @param frozen the agent froze this wallet for every token that uses the registry
    /// @param kycExpiry the wallet's KYC is valid while block.timestamp < kycExpiry
    /// @param jurisdiction ISO 3166-1 numeric country code of the investor
    struct Investor {
        bool allowed;
        bool frozen;
        uint64 kycExpiry;
        uint16 jurisdiction;
    }

    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when an investor or admin address is the zero address.
    error ZeroAddress();
    /// @notice Thrown when a KYC expiry is not in the future.
    error KycExpiryNotInFuture(address investor, uint64 kycExpiry, uint256 nowTimestamp);
    /// @notice Thrown when a jurisdiction code is 0 or above 999 (not an ISO 3166-1 numeric code).
    error InvalidJurisdiction(address investor, uint16 jurisdiction);
    /// @notice Thrown when the KYC of a wallet that is not allowed is updated, or such a wallet is revoked.
    error NotAnInvestor(address investor);
    /// @notice Thrown when the arrays of a batch call differ in length.
    error LengthMismatch(uint256 investors, uint256 kycExpiries, uint256 jurisdictions);
    /// @notice Thrown when a KYC expiry does not fit the 48-bit timestamp the tokens store (year 8.9 million).
    error KycExpiryTooLate(address investor, uint64 kycExpiry, uint64 maxKycExpiry);
    /// @notice Thrown when binding a token that is already bound.
    error TokenAlreadyBound(address token);
    /// @notice Thrown when binding more tokens than the registry pushes to.
    error TooManyTokens(uint256 cap);
    /// @notice Thrown when binding a token whose registry is another contract.
    error TokenRegistryMismatch(address token, address tokenRegistry);
    /// @notice Thrown when syncing investors to a token that is not bound.
    error TokenNotBound(address token);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when `investor` is allowed (or re-allowed) with a KYC expiry and jurisdiction.
    event InvestorAllowed(address indexed investor, uint64 kycExpiry, uint16 jurisdiction, address indexed by);
    /// @notice Emitted when `investor`'s KYC expiry is changed.
    event KycUpdated(address indexed investor, uint64 kycExpiry, address indexed by);
    /// @notice Emitted when `investor` is no longer allowed.
    event InvestorRevoked(address indexed investor, address indexed by);
    /// @notice Emitted when the agent freezes or unfreezes `investor` in the registry.
    event InvestorFrozen(address indexed investor, bool frozen, address indexed by);
    /// @notice Emitted when `token` is bound: from now on every record change is pushed to it.
    event TokenBound(address indexed token, address indexed by);
    /// @notice Emitted when `count` investors' current records are pushed to `token`.
    event InvestorsSynced(address indexed token, uint256 count, address indexed by);

    // ------------------------------------------------------------------------------------------------ external
    /// @notice Allows `investor` until `kycExpiry`, in `jurisdiction` (COMPLIANCE_ROLE). Re-allowing overwrites the
    ///         expiry and jurisdiction and keeps the frozen flag.
    function allowInvestor(address investor, uint64 kycExpiry, uint16 jurisdiction) external;

    /// @notice Allows many investors at once (COMPLIANCE_ROLE); same rules as `allowInvestor` for each.
    function allowInvestors(
        address[] calldata investors,
        uint64[] calldata kycExpiries,
        uint16[] calldata jurisdictions
    ) external;

    /// @notice Sets an allowed investor's KYC expiry (COMPLIANCE_ROLE).
    function updateKyc(address investor, uint64 kycExpiry) external;

    /// @notice Stops `investor` from sending, receiving or claiming (COMPLIANCE_ROLE); keeps the frozen flag.
    function revokeInvestor(address investor) external;

    /// @notice Freezes or unfreezes `investor` for every token using this registry (AGENT_ROLE).
    function setFrozen(address investor, bool frozen) external;

    /// @notice Binds `token` (DEFAULT_ADMIN_ROLE): every later record change is pushed to it. The token must name
    ///         this registry. Investors allowed before the binding reach it through `syncInvestors`.
    function bindToken(address token) external;

    /// @notice Pushes the current records of `investors` to the bound `token`. Anyone may call: it only copies
    ///         the registry's truth, so it cannot grant what the registry does not.
    function syncInvestors(address token, address[] calldata investors) external;

    /// @notice The tokens every record change is pushed to, in binding order.
    function boundTokens() external view returns (address[] memory);

    /// @notice The stored record of `investor` (all zero for an unknown wallet).
    function investorOf(address investor) external view returns (Investor memory);

    /// @notice True when `investor` is allowed, not frozen here, and its KYC has not expired.
    function isCompliant(address investor) external view returns (bool);

    /// @notice The first restriction found on a transfer from `from` to `to`, as an ERC-1404 code: the sender's
    ///         checks (1, 3, 5) before the receiver's (2, 4, 6), each in the order allowed, KYC, frozen. The zero
    ///         address on either side means "do not check this side" (a mint checks only the receiver, a claim
    ///         only the claimer as sender). Returns 0 when neither party is restricted here.
    function restrictionOf(address from, address to) external view returns (uint8);
}
