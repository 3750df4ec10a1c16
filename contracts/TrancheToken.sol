// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IFundsDistributionToken} from "./interfaces/IFundsDistributionToken.sol";
import {ITrancheToken} from "./interfaces/ITrancheToken.sol";
import {BoundedPausable} from "./utils/BoundedPausable.sol";
import {
    IComplianceSubscriber,
    CODE_SUCCESS,
    CODE_SENDER_NOT_ALLOWED,
    CODE_RECEIVER_NOT_ALLOWED,
    CODE_SENDER_KYC_EXPIRED,
    CODE_RECEIVER_KYC_EXPIRED,
    CODE_SENDER_FROZEN,
    CODE_RECEIVER_FROZEN,
    CODE_PAUSED,
    CODE_INSUFFICIENT_BALANCE,
    CODE_ZERO_ADDRESS,
    CODE_SPENDER_RESTRICTED
} from "./interfaces/IComplianceRegistry.sol";

/// @title TrancheToken
/// @notice One tranche of a lease-receivable deal: compliant ERC-20 (ERC-1404 restriction codes, ERC-3643-style
///         agent powers) that pays its holders stablecoin pro rata in O(1) gas per distribution (ERC-2222).
/// @dev Compliance. The registry is the source of truth and pushes each investor's record (allowed, KYC expiry,
///      frozen) here whenever it changes (`syncInvestor`, callable by the registry only); a transfer reads both
///      parties' copies from this contract's storage, in the same slot as their distribution corrections, so it
///      touches per party one holder slot and one balance slot and makes no external call.
///      Deployment order: registry; this token (naming the registry); `registry.bindToken(token)`;
///      `registry.syncInvestors(token, investors allowed before the binding)`. An unbound token knows no investor
///      and refuses every mint and transfer (fail closed).
///      Accounting. Each holder h has accumulated points pointsPerShare * balance(h) + correction(h); claimable(h)
///      = floor(points(h) / 2**64) - withdrawn(h), rounded down against the claimer. Every balance change runs
///      through `_update`, which shifts corrections by pointsPerShare * value so that no balance change alters
///      anyone's points: only distributions add points, only claims consume them (recovery and a delivery of held
///      units move them between two holders, the sum unchanged).
///      Hence, exactly: totalDistributed * 2**64 = sum over holders of points(h) + pointsRemainder, and the
///      stablecoin held equals totalDistributed - totalClaimed (nothing leaves except by claim).
///      Precision: a distribution's division remainder is carried in points to the next one, so the scale only
///      decides how much sits in the carry, never whether a unit is lost; 2**64 points per unit leave each holder
///      less than one unit of rounding in total.
///      Bounds that keep the arithmetic exact (each enforced with its own error): supply <= 2**96 - 1, total
///      distributed <= 2**96 - 1, pointsPerShare <= 2**87 (2**23 stablecoin units per token unit over the deal's
///      life, the same bound as before the scale was lowered). Then 0 <= points(h) <= totalDistributed * 2**64
///      < 2**160 and 0 <= pointsPerShare * balance(h) < 2**183, so correction(h) = points(h) - pointsPerShare *
///      balance(h) lies in (-2**183, 2**160) and fits the int184 it is stored in, as does every shift
///      pointsPerShare * value applied in `_update`.
///      Deliberately not checked: stablecoin sent to the token outside a distribution is not credited to anyone
///      (it stays as an unaccounted surplus a later distribution may count as backing); allowances are not part
///      of detectTransferRestriction; a recovered lost wallet is not frozen automatically (its balance is 0).
contract TrancheToken is ERC20, AccessControl, BoundedPausable, ReentrancyGuardTransient, ITrancheToken {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------------------------------------ storage
    /// @dev Packs into the slot of Pausable's `_paused` (the last inherited state variable), so one cold read
    ///      serves both the pause check and the corrections of a transfer.
    uint248 private _pointsPerShare;

    /// @dev One slot per holder (184 + 8 + 48 + 8 + 8 = 256 bits): a transfer reads the compliance and updates the
    ///      correction of each party in this one slot.
    /// @param correction the distribution correction (see the accounting note)
    /// @param allowed the registry allows the holder (pushed by the registry)
    /// @param kycExpiry the holder's KYC is valid while block.timestamp < kycExpiry (pushed by the registry)
    /// @param registryFrozen the registry's agent froze the holder (pushed by the registry)
    /// @param walletFrozen this token's own freeze, set by its agent
    struct Holder {
        int184 correction;
        bool allowed;
        uint48 kycExpiry;
        bool registryFrozen;
        bool walletFrozen;
    }

    mapping(address holder => Holder) private _holders;
    mapping(address holder => uint256) private _withdrawn;
    uint128 private _totalDistributed;
    uint128 private _totalClaimed;
    uint256 private _pointsRemainder;
    bool private _issuanceClosed;
    /// @dev When the current or last pause ends by itself (BoundedPausable); packs beside `_issuanceClosed`.
    uint64 private _pauseEnds;
    /// @dev Set only for the duration of an agent's forced move or an issuer's delivery of held units, so that
    ///      `_update` applies the forced rules (the receiver checked, not the sender).
    bool private transient _agentMove;
    /// @dev Set only for the duration of `mintHeld`: the issuer's own units, not checked as an investor's.
    bool private transient _heldMint;

    IERC20 private immutable _STABLECOIN;
    address private immutable _REGISTRY;
    /// @dev The stablecoin's own decimals, read once at deployment: one token unit is one stablecoin smallest unit
    ///      of face value.
    uint8 private immutable _DECIMALS;

    // ------------------------------------------------------------------------------------------------ constants
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Forced transfers and wallet recoveries: powers over holders' tokens, held by the deal's timelock so
    ///         that each is announced and can be cancelled by the trustee before it runs.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");
    /// @notice Freezes wallets and pauses (at most MAX_PAUSE): immediate, and neither moves a token nor a unit.
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR_ROLE");
    /// @notice Points per stablecoin unit: the accumulator's fixed-point scale.
    uint256 public constant POINTS_MAGNITUDE = 2 ** 64;
    uint256 public constant MAX_SUPPLY = 2 ** 96 - 1;
    uint256 public constant MAX_TOTAL_DISTRIBUTED = 2 ** 96 - 1;
    uint256 public constant MAX_POINTS_PER_SHARE = 2 ** 87;

    // ------------------------------------------------------------------------------------------------ constructor
    /// @param admin receives DEFAULT_ADMIN_ROLE, ISSUER_ROLE, AGENT_ROLE and COMPLIANCE_ROLE; DISTRIBUTOR_ROLE is
    ///        granted to the pool once it exists. Issuance hands each on and renounces it (see the deal's roles).
    constructor(string memory name_, string memory symbol_, address stablecoin_, address registry_, address admin)
        ERC20(name_, symbol_)
    {
        require(stablecoin_ != address(0) && registry_ != address(0) && admin != address(0), ZeroAddress());
        _STABLECOIN = IERC20(stablecoin_);
        _DECIMALS = IERC20Metadata(stablecoin_).decimals();
        _REGISTRY = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
        _grantRole(COMPLIANCE_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------ external
    /// @notice Face value in stablecoin units: the stablecoin's decimals, read at deployment.
    function decimals() public view override returns (uint8) {
        return _DECIMALS;
    }

    /// @inheritdoc ITrancheToken
    function mint(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _mintChecked(to, amount);
    }

    /// @inheritdoc ITrancheToken
    function mintBatch(address[] calldata recipients, uint256[] calldata amounts) external onlyRole(ISSUER_ROLE) {
        require(recipients.length == amounts.length, LengthMismatch(recipients.length, amounts.length));
        for (uint256 i; i < recipients.length; ++i) {
            _mintChecked(recipients[i], amounts[i]);
        }
    }

    /// @inheritdoc ITrancheToken
    function mintHeld(uint256 amount) external onlyRole(ISSUER_ROLE) {
        _heldMint = true;
        _mintChecked(msg.sender, amount);
        _heldMint = false;
    }

    /// @inheritdoc ITrancheToken
    function deliverHeld(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        require(to != msg.sender, SameWallet(to));
        uint256 balance = balanceOf(msg.sender);
        uint256 points = 0;
        if (balance != 0) {
            // The issuer's points never go negative (it never claims), and they are at most
            // totalDistributed * 2**64 < 2**160: the product with amount <= balance < 2**96 fits 256 bits.
            points = uint256(int256(uint256(_pointsPerShare) * balance) + _holders[msg.sender].correction) * amount
                / balance;
        }
        _agentTransfer(msg.sender, to, amount); // the receiver's compliance and the balance; shifts corrections
        if (points != 0) {
            // points < 2**160 fits int184 (see above)
            int184 moved = int184(int256(points));
            _holders[msg.sender].correction -= moved;
            _holders[to].correction += moved;
        }
        emit HeldDelivered(msg.sender, to, amount, points);
    }

    /// @inheritdoc ITrancheToken
    function closeIssuance() external onlyRole(ISSUER_ROLE) {
        require(!_issuanceClosed, IssuanceIsClosed());
        _issuanceClosed = true;
        emit IssuanceClosed(totalSupply(), msg.sender);
    }

    /// @inheritdoc ITrancheToken
    function setWalletFrozen(address wallet, bool frozen) external onlyRole(COMPLIANCE_ROLE) {
        require(wallet != address(0), ZeroAddress());
        _holders[wallet].walletFrozen = frozen;
        emit WalletFrozen(wallet, frozen, msg.sender);
    }

    /// @inheritdoc ITrancheToken
    function forcedTransfer(address from, address to, uint256 amount) external onlyRole(AGENT_ROLE) returns (bool) {
        _agentTransfer(from, to, amount);
        emit ForcedTransfer(from, to, amount, msg.sender);
        return true;
    }

    /// @inheritdoc ITrancheToken
    function recoverWallet(address lost, address newWallet) external onlyRole(AGENT_ROLE) {
        require(lost != newWallet, SameWallet(lost));
        require(_holders[lost].walletFrozen, LostWalletNotFrozen(lost));
        uint256 balance = balanceOf(lost);
        uint256 entitlement = _claimableDown(lost);
        require(balance != 0 || entitlement != 0, NothingToRecover(lost));
        _agentTransfer(lost, newWallet, balance); // checks newWallet's compliance even when balance is 0
        if (entitlement != 0) {
            // entitlement <= MAX_TOTAL_DISTRIBUTED < 2**96, so entitlement * 2**64 < 2**160 fits int184
            int184 points = int184(int256(entitlement * POINTS_MAGNITUDE));
            _holders[lost].correction -= points;
            _holders[newWallet].correction += points;
        }
        emit WalletRecovered(lost, newWallet, balance, entitlement, msg.sender);
    }

    /// @inheritdoc ITrancheToken
    function pause() external onlyRole(COMPLIANCE_ROLE) {
        _boundedPause();
    }

    /// @inheritdoc ITrancheToken
    function unpause() external {
        _liftPause(hasRole(COMPLIANCE_ROLE, msg.sender));
    }

    /// @notice ERC-20 `transferFrom`, refused when the spender (the caller, when it is not `from`) is not itself an
    ///         allowed, KYC-valid, unfrozen investor: no wallet that never passed KYC moves a holder's tokens.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address spender = _msgSender();
        if (spender != from) {
            uint8 code = _spenderRestriction(spender);
            require(code == CODE_SUCCESS, TransferRestricted(code, from, to));
        }
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc ITrancheToken
    function detectTransferFromRestriction(address spender, address from, address to, uint256 amount)
        external
        view
        returns (uint8)
    {
        if (spender != from) {
            uint8 code = _spenderRestriction(spender);
            if (code != CODE_SUCCESS) return code;
        }
        return _transferRestriction(from, to, amount);
    }

    /// @inheritdoc IFundsDistributionToken
    function distributeFunds(uint256 amount) external onlyRole(DISTRIBUTOR_ROLE) {
        require(amount != 0, ZeroDistribution());
        uint256 distributed = uint256(_totalDistributed) + amount;
        require(
            distributed <= MAX_TOTAL_DISTRIBUTED,
            DistributionTooLarge(amount, _totalDistributed, MAX_TOTAL_DISTRIBUTED)
        );
        uint256 required = distributed - _totalClaimed;
        uint256 balance = _STABLECOIN.balanceOf(address(this));
        require(balance >= required, UnbackedDistribution(balance, required));

        uint256 points = amount * POINTS_MAGNITUDE + _pointsRemainder;
        uint256 supply = totalSupply();
        uint256 pps = _pointsPerShare;
        uint256 carried = points;
        if (supply != 0) {
            uint256 increase = points / supply;
            pps += increase;
            require(pps <= MAX_POINTS_PER_SHARE, PointsPerShareOverflow(pps, MAX_POINTS_PER_SHARE));
            carried = points % supply;
            _pointsPerShare = uint248(pps); // pps <= 2**87 just checked
        }
        _pointsRemainder = carried;
        _totalDistributed = uint128(distributed); // distributed <= 2**96 - 1 just checked
        emit FundsDistributed(msg.sender, amount, carried, supply, pps);
    }

    /// @inheritdoc IFundsDistributionToken
    function claim() external nonReentrant returns (uint256 amount) {
        uint8 code = _claimRestriction(msg.sender);
        require(code == CODE_SUCCESS, ClaimRestricted(code, msg.sender));
        amount = _claimableDown(msg.sender);
        require(amount != 0, NothingToClaim(msg.sender));
        _withdrawn[msg.sender] += amount;
        // amount <= totalDistributed - totalClaimed (see the contract's accounting note), so the sum stays < 2**96
        _totalClaimed += uint128(amount);
        emit FundsClaimed(msg.sender, amount);
        _STABLECOIN.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IFundsDistributionToken
    function claimable(address holder) external view returns (uint256) {
        return _claimableDown(holder);
    }

    /// @inheritdoc ITrancheToken
    function accountOf(address holder)
        external
        view
        returns (uint256 balance, uint256 claimableNow, uint256 withdrawn, uint8 claimRestriction)
    {
        return (balanceOf(holder), _claimableDown(holder), _withdrawn[holder], _claimRestriction(holder));
    }

    /// @inheritdoc ITrancheToken
    function claimableOf(address[] calldata holders) external view returns (uint256[] memory amounts) {
        amounts = new uint256[](holders.length);
        for (uint256 i = 0; i < holders.length; ++i) {
            amounts[i] = _claimableDown(holders[i]);
        }
    }

    /// @inheritdoc ITrancheToken
    function claimsDue(address[] calldata holders)
        external
        view
        returns (uint256[] memory amounts, uint8[] memory claimRestrictions)
    {
        amounts = new uint256[](holders.length);
        claimRestrictions = new uint8[](holders.length);
        for (uint256 i = 0; i < holders.length; ++i) {
            amounts[i] = _claimableDown(holders[i]);
            claimRestrictions[i] = _claimRestriction(holders[i]);
        }
    }

    /// @inheritdoc IComplianceSubscriber
    function syncInvestor(address investor, bool allowed, uint48 kycExpiry, bool frozen) external {
        require(msg.sender == _REGISTRY, NotRegistry(msg.sender));
        Holder storage h = _holders[investor];
        h.allowed = allowed;
        h.kycExpiry = kycExpiry;
        h.registryFrozen = frozen;
        emit InvestorSynced(investor, allowed, kycExpiry, frozen);
    }

    /// @inheritdoc ITrancheToken
    function investorRecordOf(address investor)
        external
        view
        returns (bool allowed, uint48 kycExpiry, bool registryFrozen)
    {
        Holder memory h = _holders[investor];
        return (h.allowed, h.kycExpiry, h.registryFrozen);
    }

    /// @inheritdoc ITrancheToken
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8) {
        return _transferRestriction(from, to, amount);
    }

    /// @inheritdoc ITrancheToken
    function detectClaimRestriction(address holder) external view returns (uint8) {
        return _claimRestriction(holder);
    }

    /// @inheritdoc ITrancheToken
    function detectMintRestriction(address to) external view returns (uint8) {
        if (to == address(0)) return CODE_ZERO_ADDRESS;
        return _receiverRestriction(to);
    }

    /// @inheritdoc ITrancheToken
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory) {
        if (restrictionCode == CODE_SUCCESS) return "No restriction";
        if (restrictionCode == CODE_SENDER_NOT_ALLOWED) return "Sender is not an allowed investor";
        if (restrictionCode == CODE_RECEIVER_NOT_ALLOWED) return "Receiver is not an allowed investor";
        if (restrictionCode == CODE_SENDER_KYC_EXPIRED) return "Sender KYC has expired";
        if (restrictionCode == CODE_RECEIVER_KYC_EXPIRED) return "Receiver KYC has expired";
        if (restrictionCode == CODE_SENDER_FROZEN) return "Sender wallet is frozen";
        if (restrictionCode == CODE_RECEIVER_FROZEN) return "Receiver wallet is frozen";
        if (restrictionCode == CODE_PAUSED) return "Token is paused";
        if (restrictionCode == CODE_INSUFFICIENT_BALANCE) return "Sender balance is insufficient";
        if (restrictionCode == CODE_ZERO_ADDRESS) return "Sender or receiver is the zero address";
        if (restrictionCode == CODE_SPENDER_RESTRICTED) return "Spender is not an allowed, unfrozen investor";
        return "Unknown restriction code";
    }

    /// @inheritdoc ITrancheToken
    function issuanceClosed() external view returns (bool) {
        return _issuanceClosed;
    }

    /// @inheritdoc ITrancheToken
    function isWalletFrozen(address wallet) external view returns (bool) {
        return _holders[wallet].walletFrozen;
    }

    /// @inheritdoc ITrancheToken
    function totalDistributed() external view returns (uint256) {
        return _totalDistributed;
    }

    /// @inheritdoc ITrancheToken
    function totalClaimed() external view returns (uint256) {
        return _totalClaimed;
    }

    /// @inheritdoc ITrancheToken
    function withdrawnOf(address holder) external view returns (uint256) {
        return _withdrawn[holder];
    }

    /// @inheritdoc ITrancheToken
    function pointsRemainder() external view returns (uint256) {
        return _pointsRemainder;
    }

    /// @inheritdoc ITrancheToken
    function carriedDustDown() external view returns (uint256) {
        return _pointsRemainder / POINTS_MAGNITUDE;
    }

    /// @inheritdoc ITrancheToken
    function pointsPerShare() external view returns (uint256) {
        return _pointsPerShare;
    }

    /// @inheritdoc ITrancheToken
    function distributionTotals()
        external
        view
        returns (uint256 distributed, uint256 supply, uint256 perShare, uint256 remainder)
    {
        return (_totalDistributed, totalSupply(), _pointsPerShare, _pointsRemainder);
    }

    /// @inheritdoc ITrancheToken
    function pointsCorrectionOf(address holder) external view returns (int256) {
        return _holders[holder].correction;
    }

    /// @inheritdoc ITrancheToken
    function stablecoin() external view returns (address) {
        return address(_STABLECOIN);
    }

    /// @inheritdoc IComplianceSubscriber
    function registry() external view returns (address) {
        return _REGISTRY;
    }

    // ------------------------------------------------------------------------------------------------ internal
    /// @dev The one place balances change. OpenZeppelin's ERC20 has already rejected a zero sender (transfer) or
    ///      a zero receiver, and the token has no burn, so `to` is never 0 here.
    function _update(address from, address to, uint256 value) internal override {
        uint8 code;
        if (from == address(0)) code = _heldMint ? CODE_SUCCESS : _receiverRestriction(to);
        else if (_agentMove) code = _agentRestriction(from, to, value);
        else code = _transferRestriction(from, to, value);
        require(code == CODE_SUCCESS, TransferRestricted(code, from, to));

        super._update(from, to, value);

        uint256 pps = _pointsPerShare;
        if (pps != 0 && value != 0) {
            // pps <= 2**87 and value <= MAX_SUPPLY < 2**96: the product is < 2**183 and fits int184 exactly
            int184 delta = int184(int256(pps * value));
            unchecked {
                // Each new correction is that of a reachable state, which the accounting note bounds to
                // (-2**183, 2**160): the int184 sums cannot wrap.
                if (from != address(0)) _holders[from].correction += delta;
                _holders[to].correction -= delta;
            }
        }
    }

    function _pauseExpiry() internal view override returns (uint256) {
        return _pauseEnds;
    }

    function _setPauseExpiry(uint256 expiresAt) internal override {
        _pauseEnds = uint64(expiresAt); // block.timestamp + 14 days fits 64 bits for billions of years
    }

    function _spenderRestriction(address spender) private view returns (uint8) {
        Holder storage s = _holders[spender];
        if (_recordRestriction(s, CODE_SENDER_NOT_ALLOWED) != CODE_SUCCESS || s.walletFrozen) {
            return CODE_SPENDER_RESTRICTED;
        }
        return CODE_SUCCESS;
    }

    function _mintChecked(address to, uint256 amount) private {
        require(!_issuanceClosed, IssuanceIsClosed());
        uint256 supply = totalSupply();
        require(supply + amount <= MAX_SUPPLY, SupplyCapExceeded(supply, amount, MAX_SUPPLY));
        _mint(to, amount);
    }

    function _agentTransfer(address from, address to, uint256 amount) private {
        _agentMove = true;
        _transfer(from, to, amount);
        _agentMove = false;
    }

    /// @dev The single source of truth for ordinary transfers: detectTransferRestriction returns it, `_update`
    ///      enforces it. Order: pause, zero address, the sender's registry record (1, 3, 5), the receiver's
    ///      (2, 4, 6), the token-level freeze of the sender (5) then of the receiver (6), the balance (8).
    function _transferRestriction(address from, address to, uint256 value) private view returns (uint8) {
        if (paused()) return CODE_PAUSED;
        if (from == address(0) || to == address(0)) return CODE_ZERO_ADDRESS;
        Holder storage sender = _holders[from];
        Holder storage receiver = _holders[to];
        uint8 code = _recordRestriction(sender, CODE_SENDER_NOT_ALLOWED);
        if (code != CODE_SUCCESS) return code;
        code = _recordRestriction(receiver, CODE_RECEIVER_NOT_ALLOWED);
        if (code != CODE_SUCCESS) return code;
        if (sender.walletFrozen) return CODE_SENDER_FROZEN;
        if (receiver.walletFrozen) return CODE_RECEIVER_FROZEN;
        if (balanceOf(from) < value) return CODE_INSUFFICIENT_BALANCE;
        return CODE_SUCCESS;
    }

    /// @dev Forced transfers and recovery: no pause check and no check on the sender; the receiver must be
    ///      compliant and the sender must hold the amount.
    function _agentRestriction(address from, address to, uint256 value) private view returns (uint8) {
        if (from == address(0) || to == address(0)) return CODE_ZERO_ADDRESS;
        uint8 code = _receiverRestriction(to);
        if (code != CODE_SUCCESS) return code;
        if (balanceOf(from) < value) return CODE_INSUFFICIENT_BALANCE;
        return CODE_SUCCESS;
    }

    /// @dev Mints and agent moves: the receiver's registry record, then the token-level freeze.
    function _receiverRestriction(address to) private view returns (uint8) {
        Holder storage receiver = _holders[to];
        uint8 code = _recordRestriction(receiver, CODE_RECEIVER_NOT_ALLOWED);
        if (code != CODE_SUCCESS) return code;
        if (receiver.walletFrozen) return CODE_RECEIVER_FROZEN;
        return CODE_SUCCESS;
    }

    /// @dev Claims: paused, then the claimer's registry record as a sender, then the token-level freeze.
    function _claimRestriction(address holder) private view returns (uint8) {
        if (paused()) return CODE_PAUSED;
        Holder storage claimer = _holders[holder];
        uint8 code = _recordRestriction(claimer, CODE_SENDER_NOT_ALLOWED);
        if (code != CODE_SUCCESS) return code;
        if (claimer.walletFrozen) return CODE_SENDER_FROZEN;
        return CODE_SUCCESS;
    }

    /// @dev The registry's rule (ComplianceRegistry._sideRestriction) applied to the pushed copy: `notAllowed` is
    ///      the side's first code (1 sender, 2 receiver); its KYC and frozen codes follow two and four apart.
    function _recordRestriction(Holder storage h, uint8 notAllowed) private view returns (uint8) {
        if (!h.allowed) return notAllowed;
        if (block.timestamp >= h.kycExpiry) return notAllowed + (CODE_SENDER_KYC_EXPIRED - CODE_SENDER_NOT_ALLOWED);
        if (h.registryFrozen) return notAllowed + (CODE_SENDER_FROZEN - CODE_SENDER_NOT_ALLOWED);
        return CODE_SUCCESS;
    }

    /// @dev floor(points / 2**64) - withdrawn: rounds against the claimer. points >= 0 and floor(points / 2**64)
    ///      >= withdrawn hold by the accounting note (claims and recovery take at most the floor).
    function _claimableDown(address holder) private view returns (uint256) {
        Holder storage h = _holders[holder];
        int256 points = int256(uint256(_pointsPerShare) * balanceOf(holder)) + h.correction;
        return uint256(points) / POINTS_MAGNITUDE - _withdrawn[holder];
    }
}
