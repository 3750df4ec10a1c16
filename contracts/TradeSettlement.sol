// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ITrancheToken} from "./interfaces/ITrancheToken.sol";

/// @title TradeSettlement
/// @notice Delivery against payment for a deal's tranche tokens: a seller signs an order (EIP-712) to sell `amount`
///         of a tranche for `price` stablecoin, to one buyer or to anyone, until `expiry`; a buyer fills it and, in
///         the same transaction, the buyer's stablecoin goes to the seller and the seller's tokens to the buyer, or
///         nothing moves. Compliance is checked on both sides, and on this contract as the spender, before any
///         transfer. An order is filled once: its nonce is spent by the fill or by the seller's cancellation.
/// @dev The payment passes through this contract (buyer to here, here to seller, in the one call) so that an
///      auditor reading only the deal's accounts sees both legs of every trade. The contract holds nothing between
///      calls and has no admin. It must be an allowed investor in the deal's registry (the tokens check a spender
///      like a holder) and the seller must approve it for the tokens, the buyer for the stablecoin.
contract TradeSettlement is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice A sell order: `seller` sells `amount` of `token` for `price` stablecoin units to `buyer` (0: anyone)
    ///         until `expiry`; `nonce` is any number the seller has not used.
    struct Order {
        address seller;
        address token;
        uint256 amount;
        uint256 price;
        address buyer;
        uint64 expiry;
        uint256 nonce;
    }

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address seller,address token,uint256 amount,uint256 price,address buyer,uint64 expiry,uint256 nonce)"
    );

    IERC20 private immutable _STABLECOIN;
    address private immutable _SENIOR;
    address private immutable _JUNIOR;
    mapping(address seller => mapping(uint256 nonce => bool)) private _spent;

    error UnknownToken(address token);
    error OrderExpired(uint256 expiry, uint256 now_);
    error NotTheBuyer(address buyer, address caller);
    error BadSignature(address seller);
    error NonceSpent(address seller, uint256 nonce);
    error TradeRestricted(uint8 code, address seller, address buyer);
    error ZeroAmount();

    /// @notice `seller` sold `amount` of `token` to `buyer` for `price`, filling the order `orderHash`.
    event TradeSettled(
        bytes32 indexed orderHash,
        address indexed seller,
        address indexed buyer,
        address token,
        uint256 amount,
        uint256 price,
        uint256 nonce
    );
    /// @notice `seller` spent `nonce` without a trade: an order signed with it can no longer be filled.
    event OrderCancelled(address indexed seller, uint256 indexed nonce);

    /// @param stablecoin the deal's stablecoin
    /// @param senior the senior tranche token
    /// @param junior the junior tranche token
    constructor(address stablecoin, address senior, address junior) EIP712("RWA TradeSettlement", "1") {
        _STABLECOIN = IERC20(stablecoin);
        _SENIOR = senior;
        _JUNIOR = junior;
    }

    /// @notice Fills `order` for the caller, the buyer: both legs in this call or neither.
    function fill(Order calldata order, bytes calldata signature) external nonReentrant returns (bytes32 orderHash) {
        require(order.token == _SENIOR || order.token == _JUNIOR, UnknownToken(order.token));
        require(order.amount != 0, ZeroAmount());
        require(block.timestamp < order.expiry, OrderExpired(order.expiry, block.timestamp));
        require(order.buyer == address(0) || order.buyer == msg.sender, NotTheBuyer(order.buyer, msg.sender));
        require(!_spent[order.seller][order.nonce], NonceSpent(order.seller, order.nonce));
        orderHash = hashOrder(order);
        require(
            SignatureChecker.isValidSignatureNow(order.seller, _hashTypedDataV4(orderHash), signature),
            BadSignature(order.seller)
        );
        uint8 code = ITrancheToken(order.token).detectTransferFromRestriction(
            address(this), order.seller, msg.sender, order.amount
        );
        require(code == 0, TradeRestricted(code, order.seller, msg.sender));
        _spent[order.seller][order.nonce] = true;

        _STABLECOIN.safeTransferFrom(msg.sender, address(this), order.price);
        _STABLECOIN.safeTransfer(order.seller, order.price);
        IERC20(order.token).safeTransferFrom(order.seller, msg.sender, order.amount);
        emit TradeSettled(orderHash, order.seller, msg.sender, order.token, order.amount, order.price, order.nonce);
    }

    /// @notice Spends the caller's `nonce`: any order it signed with it can no longer be filled.
    function cancel(uint256 nonce) external {
        require(!_spent[msg.sender][nonce], NonceSpent(msg.sender, nonce));
        _spent[msg.sender][nonce] = true;
        emit OrderCancelled(msg.sender, nonce);
    }

    /// @notice Whether `seller` has spent `nonce` (filled or cancelled).
    function nonceSpent(address seller, uint256 nonce) external view returns (bool) {
        return _spent[seller][nonce];
    }

    /// @notice The EIP-712 struct hash of `order` (what `TradeSettled` names it by).
    function hashOrder(Order calldata order) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ORDER_TYPEHASH,
                order.seller,
                order.token,
                order.amount,
                order.price,
                order.buyer,
                order.expiry,
                order.nonce
            )
        );
    }

    /// @notice The digest a seller signs for `order` (EIP-712, this contract's domain).
    function orderDigest(Order calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(hashOrder(order));
    }

    function stablecoin() external view returns (address) {
        return address(_STABLECOIN);
    }

    function tokens() external view returns (address senior, address junior) {
        return (_SENIOR, _JUNIOR);
    }
}
