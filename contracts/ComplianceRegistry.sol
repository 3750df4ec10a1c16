// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {
    IComplianceRegistry,
    CODE_SUCCESS,
    CODE_SENDER_NOT_ALLOWED,
    CODE_RECEIVER_NOT_ALLOWED,
    CODE_SENDER_KYC_EXPIRED,
    CODE_SENDER_FROZEN
} from "./interfaces/IComplianceRegistry.sol";

/// @title ComplianceRegistry
/// @notice The deal's investor list: allowed wallets with a KYC expiry and a jurisdiction, and frozen flags.
/// @dev One slot per investor, so a transfer's check of both parties costs two storage reads and one call.
///      Deliberately not checked: that a wallet belongs to a natural person or entity (an off-chain KYC matter),
///      sanctions lists, per-jurisdiction blocks or investor caps; revocation and freezing take effect on the next
///      transfer, not retroactively on balances already held.
contract ComplianceRegistry is AccessControl, IComplianceRegistry {
    // ------------------------------------------------------------------------------------------------ storage
    mapping(address investor => Investor) private _investors;

    // ------------------------------------------------------------------------------------------------ constants
    /// @notice Manages the investor list: allow, update KYC, revoke.
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    /// @notice Freezes and unfreezes wallets.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");
    /// @dev ISO 3166-1 numeric codes run from 001 to 999.
    uint16 private constant _MAX_JURISDICTION = 999;

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
        _allow(investor, kycExpiry, jurisdiction);
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
        for (uint256 i; i < n; ++i) {
            _allow(investors[i], kycExpiries[i], jurisdictions[i]);
        }
    }

    /// @inheritdoc IComplianceRegistry
    function updateKyc(address investor, uint64 kycExpiry) external onlyRole(COMPLIANCE_ROLE) {
        Investor storage record = _investors[investor];
        require(record.allowed, NotAnInvestor(investor));
        require(kycExpiry > block.timestamp, KycExpiryNotInFuture(investor, kycExpiry, block.timestamp));
        record.kycExpiry = kycExpiry;
        emit KycUpdated(investor, kycExpiry, msg.sender);
    }

    /// @inheritdoc IComplianceRegistry
    function revokeInvestor(address investor) external onlyRole(COMPLIANCE_ROLE) {
        Investor storage record = _investors[investor];
        require(record.allowed, NotAnInvestor(investor));
        record.allowed = false;
        record.kycExpiry = 0;
        emit InvestorRevoked(investor, msg.sender);
    }

    /// @inheritdoc IComplianceRegistry
    function setFrozen(address investor, bool frozen) external onlyRole(AGENT_ROLE) {
        require(investor != address(0), ZeroAddress());
        _investors[investor].frozen = frozen;
        emit InvestorFrozen(investor, frozen, msg.sender);
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
    function _allow(address investor, uint64 kycExpiry, uint16 jurisdiction) private {
        require(investor != address(0), ZeroAddress());
        require(kycExpiry > block.timestamp, KycExpiryNotInFuture(investor, kycExpiry, block.timestamp));
        require(
            jurisdiction != 0 && jurisdiction <= _MAX_JURISDICTION,
            InvalidJurisdiction(investor, jurisdiction)
        );
        Investor storage record = _investors[investor];
        record.allowed = true;
        record.kycExpiry = kycExpiry;
        record.jurisdiction = jurisdiction;
        emit InvestorAllowed(investor, kycExpiry, jurisdiction, msg.sender);
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
