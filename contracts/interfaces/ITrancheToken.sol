// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFundsDistributionToken} from "./IFundsDistributionToken.sol";
import {IComplianceSubscriber} from "./IComplianceRegistry.sol";

/// @title ITrancheToken
/// @notice One tranche of the deal (senior or junior): an ERC-20 whose unit is one unit of face value in the
///         stablecoin (its decimals are the stablecoin's, read once at deployment), transferable only between
///         compliant investors (ERC-1404 codes from IComplianceRegistry.sol), with ERC-3643-style agent powers and
///         O(1) stablecoin distributions.
/// @dev Roles: DEFAULT_ADMIN_ROLE (grants roles; the deal's timelock), ISSUER_ROLE (mints until issuance closes),
///      AGENT_ROLE (forced transfer, recovery of a frozen wallet; the deal's timelock, so each is announced first),
///      COMPLIANCE_ROLE (freeze, pause for at most MAX_PAUSE), DISTRIBUTOR_ROLE (the pool: distributes funds).
///      Restriction checks, in the order the first failing one is reported:
///      transfer  — paused (7), zero address (9), registry sender (1, 3, 5) then receiver (2, 4, 6), token-level
///                  freeze sender (5) then receiver (6), balance (8);
///      mint      — registry receiver (2, 4, 6), token-level freeze of the receiver (6); not stopped by pause;
///      forced transfer and recovery — zero address (9), registry receiver (2, 4, 6), token-level freeze of the
///                  receiver (6), balance (8). They skip the pause and every check on the sender: an agent moves
///                  tokens out of a frozen, revoked, expired or lost wallet, never into a non-compliant one;
///      claim     — paused (7), registry claimer as sender (1, 3, 5), token-level freeze of the claimer (5);
///      transferFrom — first the spender, when it is not the holder: allowed, KYC-valid and unfrozen (10), then as
///                  a transfer.
///      Every "registry" check above reads the copy of the investor's registry record that the registry pushed to
///      this token (IComplianceSubscriber), never the registry itself: the same rule as the registry's
///      `restrictionOf`, on data the registry keeps equal to its own.
interface ITrancheToken is IFundsDistributionToken, IComplianceSubscriber {
    // ------------------------------------------------------------------------------------------------ errors
    /// @notice Thrown when a balance change is restricted; `code` is the ERC-1404 code detectTransferRestriction gives.
    error TransferRestricted(uint8 code, address from, address to);
    /// @notice Thrown when `holder` may not claim now; `code` is the ERC-1404 code detectClaimRestriction gives.
    error ClaimRestricted(uint8 code, address holder);
    /// @notice Thrown when minting or closing issuance after issuance was closed.
    error IssuanceIsClosed();
    /// @notice Thrown when a mint would take the supply over the cap the distribution arithmetic is proven for.
    error SupplyCapExceeded(uint256 totalSupply, uint256 amount, uint256 cap);
    /// @notice Thrown when a constructor or agent argument is the zero address.
    error ZeroAddress();
    /// @notice Thrown when the arrays of a batch mint differ in length.
    error LengthMismatch(uint256 recipients, uint256 amounts);
    /// @notice Thrown when `holder` claims with nothing claimable.
    error NothingToClaim(address holder);
    /// @notice Thrown when distributing zero.
    error ZeroDistribution();
    /// @notice Thrown when the token's stablecoin balance does not cover every unit distributed and not claimed.
    error UnbackedDistribution(uint256 balance, uint256 required);
    /// @notice Thrown when the cumulative distribution would pass the cap the arithmetic is proven for.
    error DistributionTooLarge(uint256 amount, uint256 totalDistributed, uint256 cap);
    /// @notice Thrown when a distribution over a tiny supply would push points per share past the proven bound.
    error PointsPerShareOverflow(uint256 pointsPerShare, uint256 cap);
    /// @notice Thrown when recovering a wallet to itself.
    error SameWallet(address wallet);
    /// @notice Thrown when recovering a wallet that holds no tokens and no claimable stablecoin.
    error NothingToRecover(address lost);
    /// @notice Thrown when recovering a wallet the compliance agent has not frozen first.
    error LostWalletNotFrozen(address lost);
    /// @notice Thrown when anyone but the token's registry pushes an investor record.
    error NotRegistry(address caller);

    // ------------------------------------------------------------------------------------------------ events
    /// @notice Emitted when the issuer closes issuance; no mint is possible afterwards.
    event IssuanceClosed(uint256 totalSupply, address indexed by);
    /// @notice Emitted when the agent freezes or unfreezes `wallet` at the token level.
    event WalletFrozen(address indexed wallet, bool frozen, address indexed agent);
    /// @notice Emitted (after the ERC-20 Transfer) when the agent moves `amount` from `from` to `to`.
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount, address indexed agent);
    /// @notice Emitted when the agent moves a lost wallet's whole `balance` and its unclaimed `entitlement` to
    ///         `newWallet`.
    event WalletRecovered(
        address indexed lost, address indexed newWallet, uint256 balance, uint256 entitlement, address indexed agent
    );
    /// @notice Emitted when `amount` of stablecoin is credited to the holders. Replay: points = amount * 2**64 +
    ///         previous carriedPoints; if `totalSupply` is 0 all points are carried, else pointsPerShare grows by
    ///         points / totalSupply and carriedPoints = points % totalSupply.
    event FundsDistributed(
        address indexed distributor, uint256 amount, uint256 carriedPoints, uint256 totalSupply, uint256 pointsPerShare
    );
    /// @notice Emitted when `holder` is paid `amount` of stablecoin.
    event FundsClaimed(address indexed holder, uint256 amount);
    /// @notice `issuer` delivered `amount` of its held units to `to` and, with them, `points` of accrued
    ///         distributions (in points, 2**64 a stablecoin unit): `to`'s correction rose by `points`, `issuer`'s fell.
    event HeldDelivered(address indexed issuer, address indexed to, uint256 amount, uint256 points);
    /// @notice Emitted when the registry pushes `investor`'s current record to this token.
    event InvestorSynced(address indexed investor, bool allowed, uint48 kycExpiry, bool frozen);

    // ------------------------------------------------------------------------------------------------ issuance
    /// @notice Mints `amount` to the compliant investor `to` (ISSUER_ROLE, before issuance closes).
    function mint(address to, uint256 amount) external;

    /// @notice Mints to many investors at once (ISSUER_ROLE, before issuance closes).
    function mintBatch(address[] calldata recipients, uint256[] calldata amounts) external;

    /// @notice Mints `amount` to the caller (ISSUER_ROLE, before issuance closes), to hold for investors it delivers
    ///         them to later (`deliverHeld`): the caller is not itself checked as an investor, and its units can
    ///         leave it only by `deliverHeld`. Lets an offering close issuance at its close while each buyer's
    ///         delivery waits on that buyer alone.
    function mintHeld(uint256 amount) external;

    /// @notice Moves `amount` of the caller's held units (ISSUER_ROLE) to the compliant investor `to`, with the
    ///         distributions they accrued while held: the caller's accrued points pro rata to the units moved (see
    ///         the accounting note and `HeldDelivered`) go with them. Works after issuance closed; not stopped by a
    ///         pause (as a mint is not).
    function deliverHeld(address to, uint256 amount) external;

    /// @notice Closes issuance for good (ISSUER_ROLE).
    function closeIssuance() external;

    /// @notice True once issuance is closed.
    function issuanceClosed() external view returns (bool);

    // ------------------------------------------------------------------------------------------------ agent
    /// @notice Freezes or unfreezes `wallet` for this token only (AGENT_ROLE). A frozen wallet keeps its
    ///         claimable stablecoin but can neither transfer, receive nor claim until unfrozen or recovered.
    function setWalletFrozen(address wallet, bool frozen) external;

    /// @notice Moves `amount` from `from` to `to` (AGENT_ROLE) skipping the pause and the sender's checks; the
    ///         receiver must be compliant. Distribution corrections apply as for any transfer.
    function forcedTransfer(address from, address to, uint256 amount) external returns (bool);

    /// @notice Moves the whole balance of `lost` and its unclaimed stablecoin entitlement to `newWallet`
    ///         (AGENT_ROLE). The entitlement moved is exactly claimable(lost); afterwards claimable(lost) is 0 and
    ///         claimable(newWallet) grew by exactly that amount. The lost wallet keeps only its sub-unit residue.
    function recoverWallet(address lost, address newWallet) external;

    /// @notice Stops transfers and claims (AGENT_ROLE).
    function pause() external;

    /// @notice Resumes transfers and claims (AGENT_ROLE).
    function unpause() external;

    /// @notice True when `wallet` is frozen at the token level (the registry's flag is separate).
    function isWalletFrozen(address wallet) external view returns (bool);

    // ------------------------------------------------------------------------------------------------ ERC-1404
    /// @notice The restriction code a `transfer(to, amount)` from `from` meets now; 0 exactly when it succeeds.
    ///         (`transferFrom` additionally needs the allowance.)
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8);

    /// @notice The restriction code a `transferFrom(from, to, amount)` sent by `spender` meets now (the allowance
    ///         aside): the spender's own code (10) first when it is not `from`, then the transfer's.
    function detectTransferFromRestriction(address spender, address from, address to, uint256 amount)
        external
        view
        returns (uint8);

    /// @notice Human-readable text of a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external view returns (string memory);

    /// @notice The restriction code `holder`'s claim meets now (paused 7, registry 1/3/5, token freeze 5), or 0.
    function detectClaimRestriction(address holder) external view returns (uint8);

    /// @notice The restriction code a mint to `to` meets now (registry 2/4/6, token freeze 6), or 0.
    function detectMintRestriction(address to) external view returns (uint8);

    // ------------------------------------------------------------------------------------------------ distribution
    /// @notice Every unit of stablecoin credited so far.
    function totalDistributed() external view returns (uint256);

    /// @notice Every unit of stablecoin paid out by claims so far.
    function totalClaimed() external view returns (uint256);

    /// @notice Stablecoin `holder` has claimed so far.
    function withdrawnOf(address holder) external view returns (uint256);

    /// @notice What a claim by `holder` needs to know, in one call: its balance, what it can claim now (rounded
    ///         down), what it has claimed so far and the restriction code its claim meets (0: none).
    function accountOf(address holder)
        external
        view
        returns (uint256 balance, uint256 claimableNow, uint256 withdrawn, uint8 claimRestriction);

    /// @notice `claimable` for each of `holders`, in order: one call for an auditor checking every holder.
    function claimableOf(address[] calldata holders) external view returns (uint256[] memory amounts);

    /// @notice `claimable` for each of `holders`, in order, and the restriction code a claim by each meets now
    ///         (0: none): one call for a batch of claims that checks them all before it sends any.
    function claimsDue(address[] calldata holders)
        external
        view
        returns (uint256[] memory amounts, uint8[] memory claimRestrictions);

    /// @notice Points (units * 2**64) distributed but not yet credited to any holder, carried to the next
    ///         distribution: the division remainder, or whole distributions made while the supply was 0.
    function pointsRemainder() external view returns (uint256);

    /// @notice The carried remainder in whole stablecoin units, rounded down.
    function carriedDustDown() external view returns (uint256);

    /// @notice The accumulator: points credited per token unit since deployment.
    function pointsPerShare() external view returns (uint256);

    /// @notice The accumulator's whole state in one call: every unit distributed, the supply, the points per share
    ///         and the carried points remainder (what a distribution's room depends on).
    function distributionTotals()
        external
        view
        returns (uint256 distributed, uint256 supply, uint256 perShare, uint256 remainder);

    /// @notice `holder`'s correction to pointsPerShare * balance (changes with every balance change).
    function pointsCorrectionOf(address holder) external view returns (int256);

    /// @notice The stablecoin the token pays in.
    function stablecoin() external view returns (address);

    /// @notice The registry's record of `investor` as last pushed to this token (all zero before any push).
    function investorRecordOf(address investor)
        external
        view
        returns (bool allowed, uint48 kycExpiry, bool registryFrozen);
}
