"""Read a deployment's events from the chain in bounded block ranges into the ledger, from where it stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.abi import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.types import FilterParams, LogReceipt

from rwa.replay.ledger import Event, Ledger

DEFAULT_RANGE = 2_000


@dataclass(frozen=True)
class Source:
    """One contract to read: its manifest name, address and ABI."""

    name: str
    address: str
    abi: list[dict[str, Any]]


def jsonable(value: Any) -> Any:
    """Event arguments as JSON: big integers stay exact (as ints), bytes become 0x-hex, structs dicts."""
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Decoder:
    def __init__(self, w3: Web3, sources: Iterable[Source]) -> None:
        self.w3 = w3
        self.by_address: dict[str, tuple[str, dict[bytes, dict[str, Any]]]] = {}
        for src in sources:
            topics = {
                bytes(event_abi_to_log_topic(item)): item  # type: ignore[arg-type]
                for item in src.abi
                if item.get("type") == "event" and not item.get("anonymous")
            }
            self.by_address[src.address.lower()] = (src.name, topics)

    def decode(self, log: LogReceipt) -> Event | None:
        entry = self.by_address.get(str(log["address"]).lower())
        if entry is None or not log["topics"]:
            return None
        name, topics = entry
        abi = topics.get(bytes(log["topics"][0]))
        if abi is None:
            return None
        data = get_event_data(self.w3.codec, abi, log)  # type: ignore[arg-type]
        return Event(
            block=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            contract=name,
            address=Web3.to_checksum_address(log["address"]),
            event=str(data["event"]),
            args=jsonable(dict(data["args"])),
        )


def ingest(
    w3: Web3,
    ledger: Ledger,
    sources: list[Source],
    start_block: int,
    head: int,
    *,
    block_range: int = DEFAULT_RANGE,
    extra_filters: Callable[[int, int], list[FilterParams]] | None = None,
    on_range: Callable[[int, int, int], None] | None = None,
) -> int:
    """Read blocks (cursor or ``start_block``) .. ``head`` in ranges of ``block_range``; return events stored.

    ``extra_filters(a, b)`` adds topic-filtered queries (e.g. stablecoin transfers touching the pool) for a range.
    """
    decoder = Decoder(w3, sources)
    last = ledger.last_block()
    frm = start_block if last is None else last + 1
    stored = 0
    addresses = [Web3.to_checksum_address(s.address) for s in sources if not s.name.startswith("~")]
    while frm <= head:
        to = min(head, frm + block_range - 1)
        queries: list[FilterParams] = [{"fromBlock": frm, "toBlock": to, "address": addresses}]
        if extra_filters:
            queries.extend(extra_filters(frm, to))
        seen: dict[tuple[int, int], Event] = {}
        for query in queries:
            for log in w3.eth.get_logs(query):
                event = decoder.decode(log)
                if event is not None:
                    seen[(event.block, event.log_index)] = event
        events = [seen[k] for k in sorted(seen)]
        ledger.append(events, to)
        stored += len(events)
        if on_range:
            on_range(frm, to, len(events))
        frm = to + 1
    return stored
