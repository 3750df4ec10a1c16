"""Read a deployment's events from the chain in bounded block ranges into the ledger, from where it stopped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from eth_abi.abi import decode
from eth_typing import ChecksumAddress
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import FilterParams, LogReceipt

from rwa.chain.interface import chain_of, checksummed
from rwa.errors import InputError
from rwa.replay.ledger import Event, Ledger, row_of

DEFAULT_RANGE = 2_000

SENDER_EVENTS = frozenset(
    {"ReporterAdded", "ReporterRemoved", "ThresholdChanged", "ReportAmended", "PoolBound", "DefaultDeclared",
     "WalletRecovered", "IssuanceClosed", "CallScheduled", "CallExecuted", "Cancelled", "MinDelayChange"}
)
"""Events a disclosure names the sender of that do not carry it themselves: their transaction's ``from`` is read once
per transaction and kept in the ledger beside the event."""

TIMED_EVENTS = frozenset(
    {"DepositRequest", "DepositRequestCancelled", "DepositClaimed", "OwedWithdrawn", "FundsClaimed", "TradeSettled",
     "OfferingAbandoned", "DeliveryAttested", "Released", "LongStopSettled"}
)
"""Events a holder's realised cash flows are dated by (the holders' XIRR), the offering's abandonment, whose time
the auditor checks against the grace, and the escrow's deliveries, releases and long-stop, whose times it checks
against the long-stop: their block's timestamp is read once per block and kept in the ledger beside the event."""

REFUSAL_HINTS = ("too many", "too large", "more than", "limit", "exceed", "range", "response size", "-32005")
"""Words public nodes use when they refuse an ``eth_getLogs`` range as too large (result caps, range caps)."""


TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@dataclass(frozen=True)
class Source:
    """One contract to read: its manifest name, address and ABI.

    With ``touching``, only its ``Transfer`` logs from or to those accounts are read: the stablecoin on a real
    network is a token the whole world uses, and the replay needs only what moved in and out of the deal.
    """

    name: str
    address: str
    abi: list[dict[str, Any]]
    touching: tuple[str, ...] = ()

    def queries(self, frm: int, to: int) -> list[FilterParams]:
        """The topic-filtered queries of a ``touching`` source for one block range: from them, and to them."""
        padded = ["0x" + a.lower().removeprefix("0x").rjust(64, "0") for a in self.touching]
        base: FilterParams = {"fromBlock": frm, "toBlock": to, "address": Web3.to_checksum_address(self.address)}
        return [
            {**base, "topics": [TRANSFER_TOPIC, padded]},  # type: ignore[typeddict-item]
            {**base, "topics": [TRANSFER_TOPIC, None, padded]},  # type: ignore[typeddict-item]
        ]


def jsonable(value: Any) -> Any:
    """Event arguments as JSON: big integers stay exact (as ints), bytes become 0x-hex, structs dicts."""
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def _shape(param: dict[str, Any], value: Any) -> Any:
    """A decoded value as the ledger keeps it: structs as dicts by field name, addresses checksummed."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        if kind.endswith("]"):
            inner = {**param, "type": kind[: kind.rindex("[")]}
            return [_shape(inner, v) for v in value]
        return {c["name"]: _shape(c, v) for c, v in zip(param["components"], value, strict=True)}
    if kind == "address":
        return checksummed(value)
    if kind.endswith("]"):
        inner = {**param, "type": kind[: kind.rindex("[")]}
        return [_shape(inner, v) for v in value]
    return value


class _NotStatic(Exception):
    """A word that only eth-abi may judge (dirty padding, out of range): decode it the general way."""


def _word_decoder(kind: str) -> Callable[[bytes], Any] | None:
    """A decoder of one 32-byte word of static elementary type ``kind`` giving what eth-abi gives (an address in
    lower case: every address is checksummed after), or None for any other type. Replaying a large deal decodes
    hundreds of thousands of such words; eth-abi's general machinery costs several times the arithmetic."""
    if kind == "address":
        def address(word: bytes) -> str:
            if any(word[:12]):
                raise _NotStatic
            return "0x" + word[12:].hex()
        return address
    if kind == "bool":
        def boolean(word: bytes) -> bool:
            value = int.from_bytes(word, "big")
            if value > 1:
                raise _NotStatic
            return value == 1
        return boolean
    match = re.fullmatch(r"(u?)int(\d*)|bytes(\d+)", kind)
    if match is None:
        return None
    if match.group(3):
        size = int(match.group(3))

        def fixed_bytes(word: bytes) -> bytes:
            if any(word[size:]):
                raise _NotStatic
            return bytes(word[:size])
        return fixed_bytes
    bits = int(match.group(2) or 256)
    if match.group(1):
        def unsigned(word: bytes) -> int:
            value = int.from_bytes(word, "big")
            if value >> bits:
                raise _NotStatic
            return value
        return unsigned

    def signed(word: bytes) -> int:
        value = int.from_bytes(word, "big", signed=True)
        if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
            raise _NotStatic
        return value
    return signed


def decode_words(types: list[str], decoders: list[Callable[[bytes], Any]] | None, data: bytes) -> tuple[Any, ...]:
    """``eth_abi.decode(types, data)``, word by word when every type is static and elementary (``decoders``)."""
    if decoders is not None and len(data) == 32 * len(decoders):
        try:
            return tuple(d(data[32 * i:32 * i + 32]) for i, d in enumerate(decoders))
        except _NotStatic:
            pass
    return tuple(decode(types, data))


def word_decoders(types: list[str]) -> list[Callable[[bytes], Any]] | None:
    """One word decoder per type, or None when any type needs eth-abi (dynamic, array, tuple)."""
    decoders = [_word_decoder(t) for t in types]
    return None if any(d is None for d in decoders) else [d for d in decoders if d is not None]


@dataclass(frozen=True)
class _EventShape:
    name: str
    indexed: list[dict[str, Any]]
    data: list[dict[str, Any]]
    data_types: list[str]
    order: list[str]
    data_words: list[Callable[[bytes], Any]] | None
    indexed_words: list[Callable[[bytes], Any] | None]


_DYNAMIC = ("string", "bytes")


class Decoder:
    """Decodes the logs of known contracts by their ABIs, straight with eth-abi (no per-log ABI lookups)."""

    def __init__(self, w3: Web3, sources: Iterable[Source]) -> None:
        self.w3 = w3
        self.by_address: dict[str, tuple[str, dict[bytes, _EventShape]]] = {}
        for src in sources:
            shapes: dict[bytes, _EventShape] = {}
            for item in src.abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = item["inputs"]
                indexed = [p for p in inputs if p.get("indexed")]
                data = [p for p in inputs if not p.get("indexed")]
                data_types = [_type(p) for p in data]
                shapes[bytes(event_abi_to_log_topic(item))] = _EventShape(  # type: ignore[arg-type]
                    item["name"], indexed, data, data_types, [p["name"] for p in inputs],
                    word_decoders(data_types), [_word_decoder(_type(p)) for p in indexed],
                )
            self.by_address[src.address.lower()] = (src.name, shapes)

    def decode(self, log: LogReceipt) -> Event | None:
        entry = self.by_address.get(str(log["address"]).lower())
        if entry is None or not log["topics"]:
            return None
        name, shapes = entry
        shape = shapes.get(bytes(log["topics"][0]))
        if shape is None:
            return None
        args: dict[str, Any] = {}
        for param, topic, word in zip(shape.indexed, log["topics"][1:], shape.indexed_words, strict=True):
            kind = _type(param)
            if kind in _DYNAMIC or kind.endswith("]") or kind.startswith("("):
                args[param["name"]] = bytes(topic)  # an indexed dynamic value is only its hash
            else:
                value = decode_words([kind], None if word is None else [word], bytes(topic))[0]
                args[param["name"]] = _shape(param, value)
        values = decode_words(shape.data_types, shape.data_words, bytes(log["data"])) if shape.data_types else ()
        for param, value in zip(shape.data, values, strict=True):
            args[param["name"]] = _shape(param, value)
        return Event(
            block=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            contract=name,
            address=checksummed(log["address"]),
            event=shape.name,
            args=jsonable({k: args[k] for k in shape.order}),
        )


def range_queries(
    sources: list[Source], frm: int, to: int, whole: list[ChecksumAddress] | None = None
) -> list[FilterParams]:
    """Every ``eth_getLogs`` query the replay makes for one block range (the benchmark times exactly these)."""
    if whole is None:
        whole = [Web3.to_checksum_address(s.address) for s in sources if not s.touching]
    queries: list[FilterParams] = [{"fromBlock": frm, "toBlock": to, "address": whole}] if whole else []
    for source in sources:
        if source.touching:
            queries.extend(source.queries(frm, to))
    return queries


def _hash(value: Any) -> str:
    return "0x" + bytes(value).hex()


class ForeignLedgerError(InputError):
    """The ledger was read from another chain: none of the blocks it knows is on this one."""


def check_continuity(w3: Web3, ledger: Ledger) -> int:
    """Make sure the ledger's history is still this chain's; after a reorg roll it back to the last block the chain
    still has (returns the events dropped, 0 when nothing changed). No common block is a ``ForeignLedgerError``."""
    if ledger.last_block() is None:
        return 0
    head = int(w3.eth.block_number)
    stored = ledger.block_hashes()
    for number, stored_hash in stored:
        if number > head:
            continue
        if _hash(w3.eth.get_block(number)["hash"]) == stored_hash:
            return 0 if number == ledger.last_block() else ledger.rollback_to(number)
    raise ForeignLedgerError(
        f"the ledger {ledger.path} holds another chain's history (none of its {len(stored)} block hashes is on this "
        "chain): pass another --db, or remove it"
    )


class LogRangeRefusedError(Exception):
    """The node refused one ``eth_getLogs`` query; the range is retried smaller."""


def refused_as_too_large(exc: Exception) -> bool:
    """Whether a node's error on ``eth_getLogs`` reads as "the range or its result is too large"."""
    text = str(exc).lower()
    return any(hint in text for hint in REFUSAL_HINTS)


def _read_range(
    w3: Web3, decoder: Decoder, sources: list[Source], frm: int, to: int, whole: list[ChecksumAddress]
) -> tuple[list[Event], dict[int, str]]:
    seen: dict[tuple[int, int], Event] = {}
    reader = LogReader(w3)
    hashes = {to: reader.block_hash(to)}
    for logs in reader.range_logs(sources, frm, to, whole):
        for log in logs:
            event = decoder.decode(log)
            if event is not None:
                seen[(event.block, event.log_index)] = event
                hashes[event.block] = _hash(log["blockHash"])
    senders: dict[str, str] = {}
    times: dict[int, int] = {}
    events = []
    for key in sorted(seen):
        event = seen[key]
        if event.event in TIMED_EVENTS:
            if event.block not in times:
                times[event.block] = reader.timestamp(event.block)
            event = replace(event, timestamp=times[event.block])
        if event.event in SENDER_EVENTS:
            if event.tx_hash not in senders:
                senders[event.tx_hash] = reader.sender(event.tx_hash, event.block)
            event = replace(event, sender=senders[event.tx_hash])
        events.append(event)
    return events, hashes


def wanted_log(sources: list[Source], log: LogReceipt) -> bool:
    """Whether the replay's queries (:func:`range_queries`) ask for ``log`` of one of ``sources``: every log of a
    source read whole, a ``touching`` source's transfers only from or to its accounts."""
    address = str(log["address"]).lower()
    for source in sources:
        if source.address.lower() != address:
            continue
        if not source.touching:
            return True
        topics = [bytes(t) for t in log["topics"]]
        padded = {bytes.fromhex(a[2:].lower().rjust(64, "0")) for a in source.touching}
        return (len(topics) > 2 and topics[0] == bytes(HexBytes(TRANSFER_TOPIC))
                and bool({topics[1], topics[2]} & padded))
    return False


class LogReader:
    """What the replay reads of blocks, logs and transactions, asked of the chain ``w3`` belongs to (the embedded
    chain answers from its own blocks, a node through its requests)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.chain = chain_of(w3)

    def logs(self, query: FilterParams) -> list[LogReceipt]:
        return self.chain.get_logs_of([query])[0]

    def range_logs(self, sources: list[Source], frm: int, to: int, whole: list[ChecksumAddress]
                   ) -> Iterator[list[LogReceipt]]:
        """The logs of one range's queries (:func:`range_queries`), query by query; a node's refusal of the range
        as too large is :class:`LogRangeRefusedError` (the range is read again in halves)."""
        try:
            answers = self.chain.get_logs_of(range_queries(sources, frm, to, whole))
        except (Web3RPCError, ValueError) as exc:
            if to > frm and refused_as_too_large(exc):
                raise LogRangeRefusedError(str(exc)) from exc
            raise
        yield from answers

    def block_hash(self, number: int) -> str:
        return _hash(self.chain.block(number)[0])

    def timestamp(self, number: int) -> int:
        return self.chain.block(number)[1]

    def sender(self, tx_hash: str, block: int) -> str:
        return self.chain.sender_of(tx_hash, block)


def read_ranges(
    w3: Web3,
    sources: list[Source],
    frm: int,
    through: int,
    *,
    block_range: int = DEFAULT_RANGE,
    on_refusal: Callable[[int, int, str], None] | None = None,
) -> Iterator[tuple[int, int, list[Event], dict[int, str]]]:
    """Blocks ``frm``..``through`` read in ranges of ``block_range``: each range's bounds, events (with the senders
    and timestamps the ledger keeps) and the hashes of the blocks read.

    A node that refuses a range as too large (public nodes cap the blocks or the results of one query) gets the same
    blocks again in halves, down to one block; after a range is read the size grows back towards ``block_range``."""
    decoder = Decoder(w3, sources)
    whole = [Web3.to_checksum_address(s.address) for s in sources if not s.touching]
    size = block_range
    while frm <= through:
        to = min(through, frm + size - 1)
        try:
            events, hashes = _read_range(w3, decoder, sources, frm, to, whole)
        except LogRangeRefusedError as exc:
            size = max(1, (to - frm + 1) // 2)
            if on_refusal:
                on_refusal(frm, to, str(exc))
            continue
        yield frm, to, events, hashes
        frm = to + 1
        size = min(block_range, size * 2)


def ingest(
    w3: Web3,
    ledger: Ledger,
    sources: list[Source],
    start_block: int,
    head: int,
    *,
    block_range: int = DEFAULT_RANGE,
    on_range: Callable[[int, int, int], None] | None = None,
    on_refusal: Callable[[int, int, str], None] | None = None,
) -> int:
    """Read blocks (cursor or ``start_block``) .. ``head`` into the ledger (:func:`read_ranges`), one range per
    SQLite transaction; return the events stored."""
    last = ledger.last_block()
    stored = 0
    for frm, to, events, hashes in read_ranges(w3, sources, start_block if last is None else last + 1, head,
                                               block_range=block_range, on_refusal=on_refusal):
        ledger.append(events, to, hashes)
        stored += len(events)
        if on_range:
            on_range(frm, to, len(events))
    return stored


def first_difference(
    w3: Web3,
    ledger: Ledger,
    sources: list[Source],
    start_block: int,
    *,
    block_range: int = DEFAULT_RANGE,
    on_refusal: Callable[[int, int, str], None] | None = None,
) -> int | None:
    """The first block from which the ledger is not what the chain gives now (``None``: every stored row, with its
    sender, timestamp and block hash, is the chain's).

    The ledger is a file anyone with the disk may edit, and a digest kept in the same file proves nothing against an
    edit of both: so every stored range is compared, row by row, with the same range read again from the node. That
    costs one log query per range (a few on a node that caps them) and, for the events that carry them, the senders
    and timestamps again; it is the price of a verdict that does not rest on the file."""
    through = ledger.last_block()
    if through is None:
        return None
    lowest, highest = ledger.event_span()
    if lowest is not None and lowest < start_block:
        return start_block
    for frm, to, events, hashes in read_ranges(w3, sources, start_block, through, block_range=block_range,
                                               on_refusal=on_refusal):
        read = {e.block: hashes[e.block] for e in events}
        if [row_of(e) for e in events] != ledger.rows_between(frm, to) or ledger.hashes_of(list(read)) != read:
            return frm
    if highest is not None and highest > through:
        return through + 1
    return None


def _block_receipts(w3: Web3, number: int) -> list[Any]:
    """Every receipt of block ``number``: in one request where the node answers ``eth_getBlockReceipts``, else one
    request per transaction."""
    try:
        return list(w3.eth.get_block_receipts(number))
    except (Web3RPCError, ValueError, NotImplementedError):
        block = w3.eth.get_block(number)
        return [w3.eth.get_transaction_receipt(tx) for tx in block["transactions"]]  # type: ignore[arg-type]


def unreturned_logs(w3: Web3, ledger: Ledger, sources: list[Source], start_block: int, through: int) -> list[Event]:
    """The logs of ``sources`` that the receipts of blocks ``start_block``..``through`` hold and the ledger does not:
    what the node's ``eth_getLogs`` left out (a node that caps its answers or drops entries without an error).

    A second, independent reading of the same blocks, one request per block: the replay asks for it only when the
    ledger's events disagree with the contracts' state, to tell an incomplete read from state changed without an
    event."""
    decoder = Decoder(w3, sources)
    have = {(e.block, e.log_index) for e in ledger.events()}
    missing = []
    for number in range(start_block, through + 1):
        for receipt in _block_receipts(w3, number):
            for log in receipt["logs"]:
                event = decoder.decode(log) if wanted_log(sources, log) else None
                if event is not None and (event.block, event.log_index) not in have:
                    missing.append(event)
    return missing
