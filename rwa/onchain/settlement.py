"""Delivery against payment for tranche tokens (``TradeSettlement``): EIP-712 sell orders signed by the seller,
filled once by the buyer, both legs in one transaction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address
from web3.types import TxReceipt

from rwa.chain.interface import Chain
from rwa.chain.tx import event_args
from rwa.errors import InputError
from rwa.onchain.base import ContractWrapper, HasAddress, create, eip712_digest, eip712_message, to_address

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

DOMAIN_NAME = "RWA TradeSettlement"
DOMAIN_VERSION = "1"
ORDER_TYPE = [
    {"name": "seller", "type": "address"},
    {"name": "token", "type": "address"},
    {"name": "amount", "type": "uint256"},
    {"name": "price", "type": "uint256"},
    {"name": "buyer", "type": "address"},
    {"name": "expiry", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]


def check_order_field(name: str, value: Any, where: str) -> None:
    """Refuse a value the order's EIP-712 type (:data:`ORDER_TYPE`) cannot hold: an address that is none, or an
    integer (never a string, a float or a bool) outside its ``uintN``; ``where`` names it (an option, a file
    field)."""
    kind = next(f["type"] for f in ORDER_TYPE if f["name"] == name)
    if kind == "address":
        if not isinstance(value, str) or not is_address(value):
            raise InputError(f"{where}: {value!r} is not a 0x address")
        return
    bits = int(kind.removeprefix("uint"))
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not an integer")
    if not 0 <= value < 2**bits:
        raise InputError(f"{where}: {value} is not between 0 and 2**{bits} - 1")


@dataclass(frozen=True)
class Order:
    """A sell order: ``amount`` of ``token`` for ``price`` stablecoin units, to ``buyer`` (or anyone), until
    ``expiry`` (unix time); ``nonce`` makes it unique for the seller."""

    seller: str
    token: str
    amount: int
    price: int
    buyer: str
    expiry: int
    nonce: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (to_checksum_address(self.seller), to_checksum_address(self.token), self.amount, self.price,
                to_checksum_address(self.buyer), self.expiry, self.nonce)


@dataclass(frozen=True)
class SignedOrder:
    order: Order
    signature: bytes

    def write(self, path: Path) -> None:
        """An order file the buyer fills: the order and the seller's signature, as JSON."""
        path.write_text(json.dumps({"order": asdict(self.order), "signature": "0x" + self.signature.hex()},
                                   indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> SignedOrder:
        """The order file at ``path``, every field of the order checked against its EIP-712 type."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fields = data["order"]
            if not isinstance(fields, dict) or set(fields) != {f["name"] for f in ORDER_TYPE}:
                raise ValueError(f"its order has not the fields {[f['name'] for f in ORDER_TYPE]}")
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"--order {path}: not an order file ({exc})") from None
        for name, value in fields.items():
            check_order_field(name, value, f"--order {path}: order.{name}")
        if len(signature) != 65:
            raise InputError(f"--order {path}: the signature is {len(signature)} bytes, not 65")
        return cls(Order(**fields), signature)


@dataclass(frozen=True)
class Trade:
    """A ``TradeSettled``."""

    order_hash: bytes
    seller: str
    buyer: str
    token: str
    amount: int
    price: int
    nonce: int


def typed_data(order: Order, chain_id: int, settlement: str) -> dict[str, Any]:
    """The EIP-712 message for ``order`` under the settlement's domain."""
    message = {**asdict(order), "seller": to_checksum_address(order.seller), "token": to_checksum_address(order.token),
               "buyer": to_checksum_address(order.buyer)}
    return eip712_message(DOMAIN_NAME, DOMAIN_VERSION, chain_id, settlement, "Order", ORDER_TYPE, message)


def order_digest(order: Order, chain_id: int, settlement: str) -> bytes:
    return eip712_digest(typed_data(order, chain_id, settlement))


def order_signer(signed: SignedOrder, chain_id: int, settlement: str) -> str | None:
    """Who signed ``signed`` under the settlement's domain on ``chain_id`` (None for a signature that recovers to
    no one): the seller only when the order is unaltered and was signed for this chain and this settlement."""
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(full_message=typed_data(signed.order, chain_id, settlement))
    try:
        return str(Account.recover_message(message, signature=signed.signature))
    except (ValueError, TypeError):
        return None


def sign_order(order: Order, seller: LocalAccount, chain_id: int, settlement: str) -> SignedOrder:
    if seller.address.lower() != order.seller.lower():
        raise InputError(f"the order's seller is {order.seller}; the key given is {seller.address}")
    signed = Account.sign_typed_data(seller.key, full_message=typed_data(order, chain_id, settlement))
    return SignedOrder(order, bytes(signed.signature))


class TradeSettlement(ContractWrapper):
    CONTRACT = "TradeSettlement"

    @classmethod
    def deploy(cls, chain: Chain, stablecoin: str | HasAddress, senior: str | HasAddress, junior: str | HasAddress,
               *, sender: str, batch: Batch | None = None) -> TradeSettlement:
        contract = create(chain, "TradeSettlement", to_address(stablecoin), to_address(senior), to_address(junior),
                          sender=sender, batch=batch)
        return cls(chain, contract)

    def fill(self, signed: SignedOrder, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.fill(signed.order.as_tuple(), signed.signature), sender)

    def cancel(self, nonce: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.cancel(nonce), sender)

    def nonce_spent(self, seller: str, nonce: int) -> bool:
        return bool(self._call(self.contract.functions.nonceSpent(to_address(seller), nonce)))

    def digest(self, order: Order) -> bytes:
        return bytes(self._call(self.contract.functions.orderDigest(order.as_tuple())))

    def trade_in(self, receipt: TxReceipt) -> Trade:
        a: Any = event_args(self.contract, "TradeSettled", receipt)[0]
        return Trade(bytes(a["orderHash"]), str(a["seller"]), str(a["buyer"]), str(a["token"]), int(a["amount"]),
                     int(a["price"]), int(a["nonce"]))
