// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {
    IComplianceRegistry,
    IComplianceSubscriber,
    CODE_SUCCESS,
    CODE_SENDER_NOT_ALLOWED,
    CODE_RECEIVER_NOT_ALLOWED,
    CODE_SENDER_KYC_EXPIRED,
    CODE_SENDER_FROZEN
} from "./interfaces/IComplianceRegistry.sol";

/// @title ComplianceRegistry
/// @notice The deal's investor list: allowed wallets with a KYC expiry and a jurisdiction, and frozen flags.
/// @dev Push model: every change of a record is written here, then pushed to each bound token (at most
///      MAX_BOUND_TOKENS, two per deal), so a transfer checks both parties in the token's own storage without a
///      call. The bound tokens are the admin's choice and trusted: a push is an ordinary call made after this
///      contract's state and events are final.
///      Deliberately not checked: that a wallet belongs to a natural person or entity (an off-chain KYC matter),
///      sanctions lists, per-jurisdiction blocks or investor caps; revocation and freezing take effect on the next
///      transfer, not retroactively on balances already held.
contract ComplianceRegistry is AccessControl, IComplianceRegistry {
    // ------------------------------------------------------------------------------------------------ storage
    mapping(address investor => Investor) private _investors;
    address[] private _tokens;

    // ------------------------------------------------------------------------------------------------ constants
    /// @notice Manages the investor list: allow, update KYC, revoke.
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    /// @notice Freezes and unfreezes wallets.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");
    /// @dev ISO 3166-1 numeric codes run from 001 to 999.
    uint16 private constant _MAX_JURISDICTION = 999;
    /// @notice The most tokens a registry pushes to (a deal has two tranches).
    uint256 public constant MAX_BOUND_TOKENS = 4;
    /// @notice The latest KYC expiry accepted: the tokens store it in 48 bits.
    uint64 public constant MAX_KYC_EXPIRY = type(uint48).max;

    // ------------------------------------------------------------------------------------------------ constructor
    /// @param admin receives DEFAULT_ADMIN_ROLE, COMPLIANCE_ROLE and AGENT_ROLE; it can hand them on and renounce.
    constructor(address admin) {
        require(admin != address(0), ZeroAddress());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(COMPLIANCE_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------ external
    /// @inheritdoc IComplianceRegistry
    function allowInvestor(address investor, uint64 kycExpiry, uint16 jurisdiction)
        external
        onlyRole(COMPLIANCE_ROLE)
    {
        _allow(investor, kycExpiry, jurisdiction, _tokens);
    }

    /// @inheritdoc IComplianceRegistry
    function allowInvestors(
        address[] calldata investors,
        uint64[] calldata kycExpiries,
        uint16[] calldata jurisdictions
    ) external onlyRole(COMPLIANCE_ROLE) {
        uint256 n = investors.length;
        require(
            kycExpiries.length == n && jurisdictions.length == n,
            LengthMismatch(n, kycExpiries.length, jurisdictions.length)
        );
        address[] memory tokens = _tokens;
        for (uint256 i; i < n; ++i) {
            _allow(investors[i], kycExpiries[i], jurisdictions[i], tokens);
        }
    }

    /// @inheritdoc IComplianceRegistry
    function updateKyc(address investor, uint64 kycExpiry) external onlyRole(COMPLIANCE_ROLE) {
        Investor storage record = _investors[investor];
        require(record.allowed, NotAnInvestor(investor));
        _requireValidExpiry(investor, kycExpiry);
        record.kycExpiry = kycExpiry;
        emit KycUpdated(investor, kycExpiry, msg.sender);
        _push(investor, record, _tokens);
    }

    /// @inheritdoc IComplianceRegistry
    function revokeInvestor(address investor) external onlyRole(COMPLIANCE_ROLE) {
        Investor storage record = _investors[investor];
        require(record.allowed, NotAnInvestor(investor));
        record.allowed = false;
        record.kycExpiry = 0;
        emit InvestorRevoked(investor, msg.sender);
        _push(investor, record, _tokens);
    }

    /// @inheritdoc IComplianceRegistry
    function setFrozen(address investor, bool frozen) external onlyRole(AGENT_ROLE) {
        require(investor != address(0), ZeroAddress());
        Investor storage record = _investors[investor];
        record.frozen = frozen;
        emit InvestorFrozen(investor, frozen, msg.sender);
        _push(investor, record, _tokens);
    }

    /// @inheritdoc IComplianceRegistry
    function bindToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(token != address(0), ZeroAddress());
        uint256 n = _tokens.length;
        require(n < MAX_BOUND_TOKENS, TooManyTokens(MAX_BOUND_TOKENS));
        for (uint256 i; i < n; ++i) {
            require(_tokens[i] != token, TokenAlreadyBound(token));
        }
        address tokenRegistry = IComplianceSubscriber(token).registry();
        require(tokenRegistry == address(this), TokenRegistryMismatch(token, tokenRegistry));
        _tokens.push(token);
        emit TokenBound(token, msg.sender);
    }

    /// @inheritdoc IComplianceRegistry
    function syncInvestors(address token, address[] calldata investors) external {
        require(_isBound(token), TokenNotBound(token));
        emit InvestorsSynced(token, investors.length, msg.sender);
        for (uint256 i; i < investors.length; ++i) {
            Investor memory r = _investors[investors[i]];
            IComplianceSubscriber(token).syncInvestor(investors[i], r.allowed, uint48(r.kycExpiry), r.frozen);
        }
    }

    /// @inheritdoc IComplianceRegistry
    function boundTokens() external view returns (address[] memory) {
        return _tokens;
    }

    /// @inheritdoc IComplianceRegistry
    function investorOf(address investor) external view returns (Investor memory) {
        return _investors[investor];
    }

    /// @inheritdoc IComplianceRegistry
    function isCompliant(address investor) external view returns (bool) {
        return _sideRestriction(_investors[investor], CODE_SENDER_NOT_ALLOWED) == CODE_SUCCESS;
    }

    /// @inheritdoc IComplianceRegistry
    function restrictionOf(address from, address to) external view returns (uint8) {
        if (from != address(0)) {
            uint8 code = _sideRestriction(_investors[from], CODE_SENDER_NOT_ALLOWED);
            if (code != CODE_SUCCESS) return code;
        }
        if (to != address(0)) {
            return _sideRestriction(_investors[to], CODE_RECEIVER_NOT_ALLOWED);
        }
        return CODE_SUCCESS;
    }

    // ------------------------------------------------------------------------------------------------ internal
    function _allow(address investor, uint64 kycExpiry, uint16 jurisdiction, address[] memory tokens) private {
        require(investor != address(0), ZeroAddress());
        _requireValidExpiry(investor, kycExpiry);
        require(
            jurisdiction != 0 && jurisdiction <= _MAX_JURISDICTION,
            InvalidJurisdiction(investor, jurisdiction)
        );
        Investor storage record = _investors[investor];
        record.allowed = true;
        record.kycExpiry = kycExpiry;
        record.jurisdiction = jurisdiction;
        emit InvestorAllowed(investor, kycExpiry, jurisdiction, msg.sender);
        _push(investor, record, tokens);
    }

    function _requireValidExpiry(address investor, uint64 kycExpiry) private view {
        require(kycExpiry > block.timestamp, KycExpiryNotInFuture(investor, kycExpiry, block.timestamp));
        require(kycExpiry <= MAX_KYC_EXPIRY, KycExpiryTooLate(investor, kycExpiry, MAX_KYC_EXPIRY));
    }

    /// @dev Copies `investor`'s record to every bound token. Every stored kycExpiry passed _requireValidExpiry
    ///      (or is 0 after revocation), so it fits uint48.
    function _push(address investor, Investor storage record, address[] memory tokens) private {
        Investor memory r = record;
        for (uint256 i; i < tokens.length; ++i) {
            IComplianceSubscriber(tokens[i]).syncInvestor(investor, r.allowed, uint48(r.kycExpiry), r.frozen);
        }
    }

    function _isBound(address token) private view returns (bool) {
        uint256 n = _tokens.length;
        for (uint256 i; i < n; ++i) {
            if (_tokens[i] == token) return true;
        }
        return false;
    }

    /// @dev `notAllowed` is the side's first code (1 for the sender, 2 for the receiver); the side's KYC and frozen
    ///      codes follow it two and four apart, as laid out in IComplianceRegistry. Reads the record's one slot once.
    function _sideRestriction(Investor storage record, uint8 notAllowed) private view returns (uint8) {
        Investor memory r = record;
        if (!r.allowed) return notAllowed;
        if (block.timestamp >= r.kycExpiry) return notAllowed + (CODE_SENDER_KYC_EXPIRED - CODE_SENDER_NOT_ALLOWED);
        if (r.frozen) return notAllowed + (CODE_SENDER_FROZEN - CODE_SENDER_NOT_ALLOWED);
        return CODE_SUCCESS;
    }
}
