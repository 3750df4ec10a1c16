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

/// @title IComplianceRegistry
/// @notice Who may hold the deal's tranche tokens: investors allowed with a KYC expiry and a jurisdiction, and
///         frozen flags set by the agent. The tokens ask it about both parties of a transfer in one call.
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

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when `investor` is allowed (or re-allowed) with a KYC expiry and jurisdiction.
    event InvestorAllowed(address indexed investor, uint64 kycExpiry, uint16 jurisdiction, address indexed by);
    /// @notice Emitted when `investor`'s KYC expiry is changed.
    event KycUpdated(address indexed investor, uint64 kycExpiry, address indexed by);
    /// @notice Emitted when `investor` is no longer allowed.
    event InvestorRevoked(address indexed investor, address indexed by);
    /// @notice Emitted when the agent freezes or unfreezes `investor` in the registry.
    event InvestorFrozen(address indexed investor, bool frozen, address indexed by);

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
