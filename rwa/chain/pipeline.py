"""A step's transactions sent together: a node is driven at the speed of blocks, not of round trips.

A :class:`Batch` holds transactions that do not need one another's results. On a JSON-RPC node each is signed
locally by its sender's key, with a nonce taken once from the node (its pending count) and counted here, and an
explicit gas limit; all are broadcast before any receipt is awaited, then awaited together. The node mines one
sender's transactions in nonce order, so a batch of n transactions costs the blocks its gas fills (usually one)
instead of n blocks. A contract the batch creates has its address before it is mined (the CREATE address of its
sender and nonce), so later transactions of the batch may name it.

Gas. A node estimates a transaction on its mined state, so a transaction added without a limit is estimated when it
is added (a revert there refuses the step before anything is sent) and given :data:`ESTIMATE_MARGIN_PERCENT` more. A
caller therefore adds without a limit only what its mined state already allows (issuance deploys a contract once
the contracts its constructor reads are mined, and wires what is mined), and names the limit of a transaction that
needs an earlier one of the batch (a deposit after its approval): the contract wrappers' measured limits, with room.
Nodes pack a block by gas limit, so limits stay close to use: an estimate, not a block-sized guess.

Crash. Before anything is broadcast, ``send(record=...)`` hands the signed batch (sender, nonce, hash and purpose of
each transaction) to the caller, who writes it down (issuance in its manifest). After a crash the caller asks
:func:`outcome` of each recorded hash: a receipt (mined: adopt it), or None once the node no longer holds it
pending, when its nonce is free again and the step is planned anew from the chain's state, with that same nonce.
A transaction is never sent twice: what was mined is found, and what was not can no longer be mined.

On the embedded chain a transaction is mined when it is sent: the batch sends its transactions one after another,
in the order added, through the direct path (:mod:`rwa.chain.tx`), and the first revert stops it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted, TransactionNotFound

from rwa.build.compile import load_build
from rwa.chain import tx
from rwa.chain.interface import Chain, checksummed
from rwa.errors import ChainError, ContractRevertError

ESTIMATE_MARGIN_PERCENT = 20
"""What a node's estimate is raised by: room for the state to differ a little when the transaction runs."""
RECEIPT_TIMEOUT = 120.0
"""Seconds a batch waits for its last receipt."""


def create_address(sender: str, nonce: int) -> str:
    """The address of the contract that ``sender``'s transaction with ``nonce`` creates."""
    return checksummed(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


@dataclass
class Planned:
    """One transaction of a batch: from ``sender`` with ``nonce``; ``to`` None creates a contract."""

    step: str
    """what it is for (the caller's name of the step, e.g. an issuance step or the contract it deploys)"""
    sender: str
    nonce: int
    to: str | None
    data: bytes
    gas: int | None
    """None on the embedded chain: the direct path's own limit"""
    value: int = 0
    contract: str = ""
    """the contract's name, to decode its revert"""
    fn: ContractFunction | None = None
    raw: bytes | None = None
    tx_hash: str | None = None
    mined: Any = None

    @property
    def created(self) -> str | None:
        """The address a creation makes (known before it is mined)."""
        return create_address(self.sender, self.nonce) if self.to is None else None


class Batch:
    """Transactions that do not need one another's results, sent together (see the module's docstring)."""

    def __init__(self, chain: Chain, receipt_timeout: float = RECEIPT_TIMEOUT) -> None:
        self.chain = chain
        self.receipt_timeout = receipt_timeout
        self.planned: list[Planned] = []
        self._nonces: dict[str, int] = {}
        self._sent = False
        self.current = ""
        """the step the transactions added now are for (:meth:`step`), unless one names its own"""

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[Batch]:
        """Name the step of every transaction added in the body (a contract wrapper's ``deploy(batch=...)`` adds
        its creation without naming one)."""
        before, self.current = self.current, name
        try:
            yield self
        finally:
            self.current = before

    def __len__(self) -> int:
        return len(self.planned)

    def nonce(self, sender: str) -> int:
        """The next nonce of ``sender`` in this batch: the node's pending count the first time, then counted here.
        A caller that signs a transaction itself takes its nonce here and adds it with :meth:`add_signed`."""
        key = sender.lower()
        if key not in self._nonces:
            self._nonces[key] = self.chain.nonce(sender)
        nonce = self._nonces[key]
        self._nonces[key] = nonce + 1
        return nonce

    def deploy(self, name: str, *args: Any, sender: str, step: str = "", gas: int | None = None) -> str:
        """Add the creation of the project's contract ``name`` with constructor ``args``; the address it will have."""
        art = load_build()[name]
        factory = self.chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        data = bytes.fromhex(str(factory.constructor(*args).data_in_transaction).removeprefix("0x"))
        planned = self._add(Planned(step or self.current, checksummed(sender), 0, None, data, gas, contract=name))
        created = planned.created
        assert created is not None
        return created

    def call(self, fn: ContractFunction, sender: str, step: str = "", gas: int | None = None, value: int = 0
             ) -> Planned:
        """Add a call of ``fn`` from ``sender``; without ``gas`` the node estimates it now, on its mined state."""
        return self._add(Planned(step or self.current, checksummed(sender), 0, str(fn.address), tx.encode_call(fn),
                                 gas, value, contract=str(fn.address), fn=fn))

    def add_signed(self, raw: bytes, sender: str, nonce: int, step: str, to: str, data: bytes, gas: int,
                   contract: str = "") -> Planned:
        """Add a transaction its caller signed with a nonce from :meth:`nonce` (the oracle's publisher records it in
        its outbox first)."""
        planned = Planned(step, checksummed(sender), nonce, to, data, gas, contract=contract, raw=raw,
                          tx_hash="0x" + bytes(keccak(raw)).hex())
        self.planned.append(planned)
        return planned

    def _add(self, planned: Planned) -> Planned:
        if self._sent:
            raise ChainError("this batch was sent already; start another")
        if planned.gas is None and not self.chain.mines_at_once:
            planned.gas = self._estimate(planned)
        planned.nonce = self.nonce(planned.sender)
        self.planned.append(planned)
        return planned

    def _estimate(self, planned: Planned) -> int:
        params: dict[str, Any] = {"from": planned.sender, "data": HexBytes(planned.data), "value": planned.value}
        if planned.to is not None:
            params["to"] = Web3.to_checksum_address(planned.to)
        try:
            estimate = int(self.chain.w3.eth.estimate_gas(params))  # type: ignore[arg-type]
        except Exception as exc:
            tx.reraise_revert(exc, planned.contract)
            raise
        return estimate + estimate * ESTIMATE_MARGIN_PERCENT // 100

    # -- sending ---------------------------------------------------------------------------------------------

    def send(self, record: Callable[[Sequence[Planned]], None] | None = None) -> list[Any]:
        """Send every transaction and wait for all; their receipts in the order added. ``record`` is given the
        signed batch before anything is broadcast. The first transaction that failed raises its contract's
        decoded error (``ContractRevertError``), after every receipt is in."""
        if self._sent:
            raise ChainError("this batch was sent already")
        self._sent = True
        if not self.planned:
            return []
        if self.chain.mines_at_once:
            return self._send_one_by_one(record)
        self._sign(self.planned)
        if record is not None:
            record(self.planned)
        for planned in self.planned:
            assert planned.raw is not None
            broadcast(self.chain, planned.raw, planned.step)
        for planned in self.planned:
            assert planned.tx_hash is not None
            planned.mined = wait(self.chain, planned.tx_hash, self.receipt_timeout, planned.step)
        for planned in self.planned:
            if planned.mined["status"] != 1:
                raise failure(self.chain, planned)
        return [p.mined for p in self.planned]

    def _sign(self, planned: Sequence[Planned]) -> None:
        """Sign every transaction of ``planned`` the caller did not: EIP-1559 fees with room for the base fee to
        double."""
        unsigned = [p for p in planned if p.raw is None]
        if not unsigned:
            return
        price = self.chain.gas_price()
        tip = min(10**9, price)
        if not self.chain.mines_at_once:
            with contextlib.suppress(Exception):  # a node without eth_maxPriorityFeePerGas keeps the default tip
                tip = min(int(self.chain.w3.eth.max_priority_fee), price)
        for p in unsigned:
            fields: dict[str, Any] = {
                "type": 2, "chainId": self.chain.chain_id, "nonce": p.nonce,
                "gas": p.gas if p.gas is not None else self.chain.backend.default_gas_limit,
                "maxFeePerGas": 2 * price, "maxPriorityFeePerGas": tip, "value": p.value, "data": p.data,
            }
            if p.to is not None:
                fields["to"] = Web3.to_checksum_address(p.to)
            signed = self.chain.account(p.sender).sign_transaction(fields)
            p.raw = bytes(signed.raw_transaction)
            p.tx_hash = "0x" + bytes(signed.hash).hex()

    def _send_one_by_one(self, record: Callable[[Sequence[Planned]], None] | None) -> list[Any]:
        """The embedded chain: each transaction is mined as it is sent; a call goes the direct path
        (:func:`rwa.chain.tx.send`), anything else is signed here and sent raw."""
        self._sign([p for p in self.planned if p.fn is None])
        if record is not None:
            record(self.planned)
        for planned in self.planned:
            if planned.fn is not None:
                planned.mined = tx.send(planned.fn, planned.sender, planned.gas, planned.value)
                planned.tx_hash = HexBytes(planned.mined["transactionHash"]).to_0x_hex()
                continue
            assert planned.raw is not None and planned.tx_hash is not None
            self.chain.send_raw(planned.raw)
            planned.mined = self.chain.wait_for_receipt(planned.tx_hash, self.receipt_timeout)
            if planned.mined["status"] != 1:
                raise failure(self.chain, planned)
        return [p.mined for p in self.planned]


def broadcast(chain: Chain, raw: bytes, what: str) -> None:
    """Hand ``raw`` to the node; one it holds already (a re-broadcast after a crash) is fine."""
    try:
        chain.send_raw(raw)
    except Exception as exc:
        text = str(exc).lower()
        if "already known" in text or "known transaction" in text or "already imported" in text:
            return
        tx.reraise_revert(exc, what)
        raise


def wait(chain: Chain, tx_hash: str, timeout: float, what: str) -> Any:
    """The receipt of ``tx_hash``; a clear error when it is not mined within ``timeout`` seconds."""
    try:
        return chain.wait_for_receipt(tx_hash, timeout)
    except TimeExhausted:
        raise ChainError(f"{what}: transaction {tx_hash} not mined within {timeout:.0f} s; re-run the command: it "
                         "finds what was mined and sends nothing twice") from None


def outcome(chain: Chain, tx_hash: str, timeout: float = RECEIPT_TIMEOUT) -> Any | None:
    """What became of a transaction recorded before a crash: its receipt once mined (waited for while the node
    still holds it pending), or None when the node knows nothing of it (never broadcast, or dropped): its nonce is
    free again."""
    if chain.mines_at_once:
        return None  # every transaction sent there is mined; the caller reads the chain's state instead
    h = HexBytes(tx_hash)
    try:
        return chain.w3.eth.get_transaction_receipt(h)
    except TransactionNotFound:
        pass
    try:
        chain.w3.eth.get_transaction(h)
    except TransactionNotFound:
        return None
    return wait(chain, tx_hash, timeout, f"transaction {tx_hash}")


def failure(chain: Chain, planned: Planned) -> ContractRevertError:
    """Why a mined transaction of a batch failed: run again as a call on the state before its block, then after it
    (a batch's earlier transactions in the same block are only there), and decoded; ``OutOfGasOrUnknown`` when
    neither gives a reason (e.g. it ran out of its gas)."""
    block = int(planned.mined["blockNumber"])
    params: dict[str, Any] = {"from": planned.sender, "data": HexBytes(planned.data), "value": planned.value}
    if planned.to is not None:
        params["to"] = Web3.to_checksum_address(planned.to)
    if planned.gas is not None:
        params["gas"] = planned.gas
    for at in (block - 1, block):
        try:
            chain.w3.eth.call(params, block_identifier=at)  # type: ignore[arg-type]
        except Exception as exc:
            try:
                tx.reraise_revert(exc, planned.contract)
            except ContractRevertError as error:
                return error
    return ContractRevertError("OutOfGasOrUnknown", {"step": planned.step, "tx": planned.tx_hash,
                                                     "gas": planned.gas}, b"", planned.contract)
