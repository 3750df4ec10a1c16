"""Attesting the fleet by hand: each reporter signs a delivery or a lease update alone, into a signature file, and
anyone relays a quorum of those files to the fleet register; exactly once.

Input files (JSON objects; ``sequence`` may be left out: it is then the register's next number, read when the file
is signed):

- a delivery, either as :meth:`rwa.onchain.register.Delivery.to_json` writes it (``order`` an index,
  ``serials_hash`` hex, ``accepted_at`` unix seconds), or as an operator writes it: ``order`` (the supplier's name
  from the deal file, or the order's 0-based index), ``servers``, ``serials`` (the batch's serial numbers; their
  sorted list is hashed, :func:`rwa.onchain.register.serials_hash`), ``site`` and ``accepted`` (an ISO 8601 time
  with its zone, e.g. ``2025-07-01T00:00:00Z``);
- a lease update, as :meth:`rwa.onchain.register.LeaseUpdate.to_json` writes it (``lease``, ``status``: active,
  terminated, defaulted or re-let, ``servers``, ``rent_per_server``, ``start_period``, ``end_period``, ``lessee``).

Everything the register would refuse is refused first, in one line naming the field: an unknown order or lease, a
delivery beyond its order, empty, accepted in the future or before the last delivery, a batch whose serial numbers
are already attested (signed again, it would be released twice), an invalid lease term or status, a sequence that is
not the register's next; when relaying, a signer that is not a reporter and a quorum short.

A signature file (``rwa-attestation-signature/1``) names the chain, the oracle (the attestations are signed in the
oracle's EIP-712 domain), the kind, the item with its sequence, and one 85-byte signature (signer address || r || s
|| v). :func:`collect` accepts a folder only when every file of that kind and sequence is for this oracle on this
chain, recovers to the signer it names, and signs the very same item.

The crash rule is the outbox's (:mod:`rwa.oracle.outbox`): the signed item is recorded before anything is sent, the
signed raw transaction before it is broadcast. A re-run finds an attestation already on the chain by its sequence
(the same item: done, nothing sent; another item: the reporters must sign again with the next number), waits for or
re-broadcasts a recorded transaction, and otherwise sends it once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import TimeExhausted, TransactionNotFound

from rwa.chain.interface import Chain
from rwa.chain.tx import call, encode_call
from rwa.errors import ChainError, ContractRevertError, InputError
from rwa.model.fleet import LeaseStatus
from rwa.onchain.oracle import RevenueOracle
from rwa.onchain.register import (
    ATTEST_GAS,
    Delivery,
    FleetRegister,
    LeaseUpdate,
    delivery_typed_data,
    lease_update_typed_data,
    serials_hash,
)
from rwa.oracle.outbox import Outbox
from rwa.oracle.report import distinct_signers, sign_typed, signer_of
from rwa.paths import write_json_atomic

log = logging.getLogger("rwa.oracle.attestations")

ATTESTATION_FORMAT = "rwa-attestation-signature/1"

Item = Delivery | LeaseUpdate


class AttestationKind(StrEnum):
    """What the reporters attest to the register."""

    DELIVERY = "delivery"
    LEASE_UPDATE = "lease-update"

    @classmethod
    def of(cls, item: Item) -> AttestationKind:
        return cls.DELIVERY if isinstance(item, Delivery) else cls.LEASE_UPDATE

    def parse(self, data: dict[str, Any]) -> Item:
        """The item as :func:`item_json` wrote it."""
        return Delivery.from_json(data) if self is AttestationKind.DELIVERY else LeaseUpdate.from_json(data)


def item_json(item: Item) -> dict[str, Any]:
    return item.to_json()


def typed_data(item: Item, chain_id: int, oracle: str) -> dict[str, Any]:
    """The EIP-712 message of ``item`` in the oracle's domain."""
    if isinstance(item, Delivery):
        return delivery_typed_data(item, chain_id, oracle)
    return lease_update_typed_data(item, chain_id, oracle)


def describe(item: Item) -> str:
    if isinstance(item, Delivery):
        return f"delivery (order {item.order}, {item.servers} servers, sequence {item.sequence})"
    return f"lease update (lease {item.lease}, {item.status.label}, sequence {item.sequence})"


# -- input files ----------------------------------------------------------------------------------------------------


def _read_object(path: Path, option: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{option} {path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{option} {path}: expected a JSON object")
    return data


def _int(data: dict[str, Any], name: str, where: str) -> int:
    if name not in data:
        raise InputError(f"{where}: {name}: missing")
    value = data[name]
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise InputError(f"{where}: {name}: not a non-negative integer ({value!r})")
    return int(value)


def _str(data: dict[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {name}: missing (a non-empty text)")
    return value.strip()


def _accepted(data: dict[str, Any], where: str) -> int:
    if "accepted_at" in data:
        return _int(data, "accepted_at", where)
    text = _str(data, "accepted", where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: accepted: {text!r} is not an ISO 8601 time (e.g. 2025-07-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise InputError(f"{where}: accepted: {text!r} has no time zone (add Z for UTC)")
    return int(moment.timestamp())


def _order(data: dict[str, Any], register: FleetRegister, where: str) -> int:
    value = data.get("order")
    if isinstance(value, str) and not value.strip().isdigit():
        names = [o.supplier for o in register.orders()]
        if value.strip() not in names:
            raise InputError(f"{where}: order: no order of supplier {value!r} in the register (orders: "
                             f"{', '.join(names)})")
        return names.index(value.strip())
    return _int(data, "order", where)


def read_delivery(path: Path, register: FleetRegister) -> Delivery:
    """The delivery in ``path`` (see the module docstring); its sequence the register's next when absent."""
    where = f"--delivery {path}"
    data = _read_object(path, "--delivery")
    if "serials_hash" in data:
        text = _str(data, "serials_hash", where).removeprefix("0x")
        try:
            hashed = bytes.fromhex(text)
        except ValueError:
            hashed = b""
        if len(hashed) != 32:
            raise InputError(f"{where}: serials_hash: not 32 bytes of hex")
    else:
        serials = data.get("serials")
        if not isinstance(serials, list) or not all(isinstance(s, str) for s in serials):
            raise InputError(f"{where}: serials: missing (a list of the batch's serial numbers, or serials_hash)")
        try:
            hashed = serials_hash(serials)
        except InputError as exc:
            raise InputError(f"{where}: serials: {exc}") from None
        if len({s.strip() for s in serials if s.strip()}) != _int(data, "servers", where):
            raise InputError(f"{where}: serials: {len(serials)} serial numbers for {data['servers']} servers")
    sequence = _int(data, "sequence", where) if "sequence" in data else register.sequence()
    return Delivery(_order(data, register, where), _int(data, "servers", where), hashed, _accepted(data, where),
                    _str(data, "site", where), sequence)


def read_lease_update(path: Path, register: FleetRegister) -> LeaseUpdate:
    """The lease update in ``path`` (see the module docstring); its sequence the register's next when absent."""
    where = f"--lease-update {path}"
    data = _read_object(path, "--lease-update")
    labels = {s.label: s for s in LeaseStatus}
    status = data.get("status")
    if isinstance(status, str) and status in labels:
        parsed = labels[status]
    elif isinstance(status, int) and not isinstance(status, bool) and status in {int(s) for s in LeaseStatus}:
        parsed = LeaseStatus(status)
    else:
        raise InputError(f"{where}: status: {status!r}; use one of {', '.join(labels)}")
    sequence = _int(data, "sequence", where) if "sequence" in data else register.sequence()
    return LeaseUpdate(_int(data, "lease", where), parsed, _int(data, "servers", where),
                       _int(data, "rent_per_server", where), _int(data, "start_period", where),
                       _int(data, "end_period", where), _str(data, "lessee", where), sequence)


# -- what the register would refuse -----------------------------------------------------------------------------------


def check_item(register: FleetRegister, item: Item, now: int) -> None:
    """Refuse in one line what the register would revert (its sequence aside: :func:`check_sequence`)."""
    if isinstance(item, Delivery):
        _check_delivery(register, item, now)
    else:
        _check_lease_update(register, item)


def check_sequence(register: FleetRegister, item: Item) -> None:
    expected = register.sequence()
    if item.sequence != expected:
        raise InputError(f"{describe(item)}: sequence {item.sequence}, the register's next is {expected}: sign it "
                         f"again with sequence {expected}")


def check_new_batch(register: FleetRegister, delivery: Delivery) -> None:
    """Refuse a batch whose serial numbers the register already holds: signed again under the next sequence, the
    same servers would be released twice (it reads the register's ``DeliveryAttested`` events)."""
    for event in register.events(names=("DeliveryAttested",)):
        if bytes(event.args["serialsHash"]) == delivery.serials_hash:
            raise InputError(f"delivery (order {delivery.order}): these serial numbers are already attested, as "
                             f"delivery {event.args['delivery']} (sequence {event.args['sequence']}, transaction "
                             f"{event.tx_hash}); a batch is attested once")


def _check_delivery(register: FleetRegister, d: Delivery, now: int) -> None:
    where = f"delivery (order {d.order})"
    orders = int(register.contract.functions.orderCount().call())
    if d.order >= orders:
        raise InputError(f"{where}: unknown order {d.order}: the register has orders 0..{orders - 1}")
    if d.servers == 0:
        raise InputError(f"{where}: servers: a delivery accepts at least one server")
    order = register.contract.functions.orderOf(d.order).call()
    ordered, delivered = int(order[1]), int(order[2])
    if delivered + d.servers > ordered:
        raise InputError(f"{where}: {d.servers} servers are beyond the order: {delivered} of {ordered} delivered "
                         f"already, {ordered - delivered} left")
    if d.accepted_at > now:
        raise InputError(f"{where}: accepted_at {d.accepted_at} is in the future (the chain's time is {now})")
    count = int(register.contract.functions.deliveryCount().call())
    if count:
        last = int(register.contract.functions.deliveryOf(count - 1).call()[2])
        if d.accepted_at < last:
            raise InputError(f"{where}: accepted_at {d.accepted_at} is before the last delivery's ({last}): "
                             "deliveries are attested in the order they were accepted")


def _check_lease_update(register: FleetRegister, u: LeaseUpdate) -> None:
    where = f"lease update (lease {u.lease})"
    count = int(register.contract.functions.leaseCount().call())
    if u.lease == 0 or u.lease > count + 1:
        raise InputError(f"{where}: unknown lease {u.lease}: the register has leases 1..{count}, or {count + 1} "
                         "for a new one")
    periods = int(register.contract.functions.periodCount().call())
    if not 1 <= u.start_period <= u.end_period <= periods:
        raise InputError(f"{where}: term {u.start_period}..{u.end_period} is not within the deal's periods "
                         f"1..{periods}")
    if u.servers == 0 and u.status is LeaseStatus.ACTIVE:
        raise InputError(f"{where}: servers: an active lease has at least one server")
    if u.lease == count + 1 and not u.status.in_force:
        raise InputError(f"{where}: status: a new lease is active or re-let, not {u.status.label}")


# -- signature files ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedItem:
    kind: AttestationKind
    item: Item
    signer: str
    signature: bytes
    chain_id: int
    oracle: str

    def to_json(self) -> dict[str, Any]:
        return {"format": ATTESTATION_FORMAT, "chain_id": self.chain_id, "oracle": self.oracle, "kind": self.kind.value,
                "signer": self.signer, "item": item_json(self.item), "signature": "0x" + self.signature.hex()}


def sign_to_file(oracle: RevenueOracle, item: Item, key: LocalAccount, out: Path) -> Path:
    """Sign ``item`` (already checked) with ``key`` into a file in folder ``out``."""
    if key.address.lower() not in {r.lower() for r in oracle.reporters()}:
        raise InputError(f"--key: {key.address} is not a reporter of the oracle {oracle.address}")
    chain_id = oracle.chain.chain_id
    (signature,) = sign_typed(typed_data(item, chain_id, oracle.address), [key])
    kind = AttestationKind.of(item)
    signed = SignedItem(kind, item, key.address, signature, chain_id, to_checksum_address(oracle.address))
    return write_json_atomic(out / f"{kind.value}-{item.sequence}-{key.address}.json", signed.to_json())


def _load(path: Path) -> SignedItem:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != ATTESTATION_FORMAT:
            raise ValueError(f"format is not {ATTESTATION_FORMAT!r}")
        kind = AttestationKind(data["kind"])
        return SignedItem(kind, kind.parse(data["item"]), to_checksum_address(data["signer"]),
                          bytes.fromhex(str(data["signature"]).removeprefix("0x")), int(data["chain_id"]),
                          to_checksum_address(data["oracle"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--signatures: {path} is not an attestation signature file ({exc})") from None


def _recover(s: SignedItem) -> str:
    message = encode_typed_data(full_message=typed_data(s.item, s.chain_id, s.oracle))
    return str(Account.recover_message(message, signature=s.signature[20:])).lower()


def _same(a: Item, b: Item, sequence_given: bool) -> bool:
    if not sequence_given:
        b = replace(b, sequence=a.sequence)
    return a == b


def collect(folder: Path, chain_id: int, oracle: str, wanted: Item, sequence_given: bool = True
            ) -> tuple[Item, list[bytes]]:
    """The item the files in ``folder`` sign, which must be ``wanted`` (its sequence aside unless
    ``sequence_given``), and their signatures ordered by signer (see the module docstring)."""
    if not folder.is_dir():
        raise InputError(f"--signatures {folder}: not a folder of signature files")
    kind = AttestationKind.of(wanted)
    signed = [s for s in (_load(p) for p in sorted(folder.glob(f"{kind.value}-*.json")))
              if _same(s.item, wanted, sequence_given)]
    if not signed:
        raise InputError(f"--signatures {folder}: no signature file for this {describe(wanted)}: the reporters sign "
                         f"it with `rwa oracle sign --{kind.value} FILE`")
    latest = max(s.item.sequence for s in signed)
    signed = [s for s in signed if s.item.sequence == latest]
    by_signer: dict[str, bytes] = {}
    for s in signed:
        where = f"the signature of {s.signer} for the {describe(s.item)}"
        if s.chain_id != chain_id or s.oracle.lower() != oracle.lower():
            raise InputError(f"{where} is for oracle {s.oracle} on chain {s.chain_id}, not {oracle} on {chain_id}")
        if signer_of(s.signature) != s.signer or _recover(s) != s.signer.lower():
            raise InputError(f"{where} does not recover to {s.signer}: the file was altered")
        by_signer[s.signer.lower()] = s.signature
    return signed[0].item, [by_signer[k] for k in sorted(by_signer)]


def check_signers(oracle: RevenueOracle, item: Item, signatures: Sequence[bytes]) -> None:
    """Refuse what the oracle's quorum check would: a signer that is not a reporter, or a quorum short."""
    reporters, threshold = oracle.quorum()
    known = {r.lower() for r in reporters}
    strangers = [signer_of(s) for s in signatures if signer_of(s).lower() not in known]
    if strangers:
        raise InputError(f"--signatures: {', '.join(strangers)} signed the {describe(item)} but is not a reporter of "
                         f"the oracle {oracle.address}; remove that file")
    present = distinct_signers(signatures)
    if present < threshold:
        raise InputError(f"{describe(item)}: {present} reporter signature{'s' if present != 1 else ''} present, the "
                         f"quorum needs {threshold}; nothing was sent: attest again once the missing reporters have "
                         "signed")


# -- sending, exactly once ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttestResult:
    item: Item
    attested: bool
    """False when the chain already held it (nothing sent)."""
    tx_hash: str | None
    message: str


class Attester:
    """Sends attestations to one register through the outbox (see the module docstring)."""

    def __init__(self, chain: Chain, register: FleetRegister, outbox: Outbox, sender: LocalAccount,
                 receipt_timeout: float = 120.0, new_batches_only: bool = True) -> None:
        self.new_batches_only = new_batches_only
        """Refuse a delivery whose serial numbers the register holds (:func:`check_new_batch`); a caller that
        knows which batches the register holds (a simulated schedule, by their index) may skip the scan."""
        self.chain = chain
        self.register = register
        self.outbox = outbox
        self.sender = sender
        self.receipt_timeout = receipt_timeout

    def attest(self, item: Item, signatures: Sequence[bytes]) -> AttestResult:
        """Send ``item`` with ``signatures`` unless the register holds it already."""
        kind = AttestationKind.of(item)
        what = describe(item)
        landed = self._landed(item)
        if landed is not None:
            self.outbox.record_attestation_done(self.register.address, item.sequence, None)
            return AttestResult(item, False, landed, f"{what}: already attested in transaction {landed}; "
                                                     "nothing to do")
        check_sequence(self.register, item)
        check_item(self.register, item, self.chain.now())
        if isinstance(item, Delivery) and self.new_batches_only:
            check_new_batch(self.register, item)
        entry = self.outbox.attestation(self.register.address, item.sequence)
        if entry is not None and entry.raw_tx is not None and entry.item == item_json(item):
            resumed = self._resume(entry.raw_tx, str(entry.tx_hash), item)
            if resumed is not None:
                return resumed
        self.outbox.record_attestation_signed(self.register.address, item.sequence, kind.value, item_json(item),
                                              signatures)
        fn = (self.register.attest_delivery_fn(item, signatures) if isinstance(item, Delivery)
              else self.register.attest_lease_update_fn(item, signatures))
        fields: dict[str, Any] = {
            "to": self.register.address, "data": encode_call(fn), "value": 0, "gas": ATTEST_GAS,
            "nonce": self.chain.nonce(self.sender.address), "gasPrice": self.chain.gas_price(),
            "chainId": self.chain.chain_id,
        }
        signed = self.sender.sign_transaction(fields)
        raw, tx_hash = bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()
        self.outbox.record_attestation_sending(self.register.address, item.sequence, raw, tx_hash)
        if self.chain.send_raw_unless_reverted(raw) is None:
            self.outbox.record_attestation_signed(self.register.address, item.sequence, kind.value, item_json(item),
                                                  signatures)
            call(fn, sender=self.sender.address)  # raises the register's reason
            raise ContractRevertError("AttestFailed", {"sequence": item.sequence}, b"", "FleetRegister")
        return self._await(item, tx_hash)

    def _landed(self, item: Item) -> str | None:
        """The transaction that attested ``item`` when the register holds it; an error when another attestation
        took its sequence."""
        if item.sequence >= self.register.sequence():
            return None
        names = ("DeliveryAttested",) if isinstance(item, Delivery) else ("LeaseUpdated",)
        for event in self.register.events(names=names):
            if int(event.args["sequence"]) != item.sequence:
                continue
            if _matches(item, event.args):
                return event.tx_hash
            break
        raise InputError(f"{describe(item)}: sequence {item.sequence} was used by another attestation; the "
                         f"reporters must sign it again with sequence {self.register.sequence()}")

    def _resume(self, raw: bytes, tx_hash: str, item: Item) -> AttestResult | None:
        """A transaction recorded before an interruption: wait for it, re-broadcast it, or give up on it."""
        log.info("%s: resuming transaction %s from the outbox", describe(item), tx_hash)
        try:
            receipt = self.chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            return self._await(item, tx_hash) if receipt["status"] == 1 else None
        try:
            self.chain.w3.eth.get_transaction(HexBytes(tx_hash))
            return self._await(item, tx_hash)
        except TransactionNotFound:
            pass
        try:
            if self.chain.send_raw_unless_reverted(raw) is None:
                return None
        except Exception as exc:  # its nonce was taken by another transaction: it can never be mined
            log.warning("%s: the recorded transaction cannot be re-sent (%s); building a new one", describe(item), exc)
            return None
        return self._await(item, tx_hash)

    def _await(self, item: Item, tx_hash: str) -> AttestResult:
        try:
            receipt = self.chain.wait_for_receipt(tx_hash, self.receipt_timeout)
        except TimeExhausted:
            raise ChainError(f"{describe(item)}: transaction {tx_hash} not mined within {self.receipt_timeout:.0f}s; "
                             "re-run the command: it resumes this transaction") from None
        if receipt["status"] != 1:
            raise ContractRevertError("AttestFailed", {"sequence": item.sequence, "tx": tx_hash}, b"", "FleetRegister")
        self.outbox.record_attestation_done(self.register.address, item.sequence, tx_hash)
        return AttestResult(item, True, tx_hash, f"{describe(item)}: attested in transaction {tx_hash} (block "
                                                 f"{int(receipt['blockNumber'])})")


def _matches(item: Item, args: dict[str, Any]) -> bool:
    if isinstance(item, Delivery):
        return (int(args["order"]), int(args["servers"]), bytes(args["serialsHash"]), int(args["acceptedAt"]),
                str(args["site"])) == (item.order, item.servers, item.serials_hash, item.accepted_at, item.site)
    return (int(args["lease"]), int(args["status"]), int(args["servers"]), int(args["rentPerServer"]),
            int(args["startPeriod"]), int(args["endPeriod"])) == (
        item.lease, int(item.status), item.servers, item.rent_per_server, item.start_period, item.end_period)
