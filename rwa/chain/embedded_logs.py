"""A faster ``eth_getLogs`` for the embedded chain, returning exactly what eth-tester's own would.

eth-tester answers ``get_logs`` by serializing every transaction receipt of every block in the range, and it reads a
block's receipts again for each of its transactions. Replaying a few thousand blocks of history that way takes
minutes. This reads each block's receipts once, skips a block whose header bloom rules out every address asked
for, and builds the same raw entries eth-tester's filter and normalizer expect. The scan itself
(:func:`candidate_headers`, :func:`receipt_logs`) is shared with the embedded chain's direct path
(``rwa.chain.embedded_direct.DirectNode.get_logs``), which builds web3.py's form from the same logs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from functools import partial
from typing import Any, cast

from eth_bloom.bloom import get_bloom_bits
from eth_tester import EthereumTester
from eth_tester.utils.filters import Filter, check_if_log_matches
from eth_utils.encoding import int_to_big_endian


def _int_to_32(value: int) -> bytes:
    return int_to_big_endian(value).rjust(32, b"\x00")


def mined_block(chain: Any, block_hash: bytes) -> tuple[Any, tuple[Any, ...]] | None:
    """The block ``block_hash`` and its receipts when this process mined it (``rwa.chain.embedded_direct``'s
    recording chain keeps the latest few thousand), else None: read it from the database."""
    mined = getattr(chain, "mined", None)
    return None if mined is None else cast("tuple[Any, tuple[Any, ...]] | None", mined.get(block_hash))


def candidate_headers(chain: Any, lower: int, upper: int, addresses: Collection[bytes]
                      ) -> Iterator[tuple[Any, bool, tuple[Any, tuple[Any, ...]] | None]]:
    """Each canonical header from ``lower`` to ``upper``, whether its block may hold a log of ``addresses`` (its
    bloom does not rule them all out; any block may when no address is asked for), and the block with its receipts
    when this process mined it (:func:`mined_block`; its header is then not decoded again)."""
    masks = [tuple(get_bloom_bits(a)) for a in addresses]  # each address's three bloom bits, hashed once
    chaindb = chain.chaindb
    for number in range(lower, upper + 1):
        memo = mined_block(chain, chaindb.get_canonical_block_hash(number))
        header = memo[0].header if memo is not None else chain.get_canonical_block_header_by_number(number)
        if not masks:
            yield header, True, memo
            continue
        bloom = int(header.bloom)
        yield header, any(all(bloom & bit for bit in bits) for bits in masks), memo


def receipt_logs(chain: Any, block: Any, receipts: Sequence[Any] | None = None
                 ) -> Iterator[tuple[int, Any, int, Any]]:
    """``(transaction index, transaction, log index within its receipt, log)`` for every log of ``block``, its
    receipts read once (or taken from ``receipts``, the block's own, when the caller has them)."""
    if not block.transactions:
        return
    if receipts is None:
        receipts = block.get_receipts(chain.chaindb)
    for tx_index, (transaction, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
        for log_index, log in enumerate(receipt.logs):
            yield tx_index, transaction, log_index, log


class FastLogsTester(EthereumTester):  # type: ignore[misc]
    """eth-tester with a ``get_logs`` that scales with the blocks that can hold a match."""

    def get_logs(self, from_block: Any = None, to_block: Any = None, address: Any = None,
                 topics: Any = None) -> tuple[Any, ...]:
        self.validator.validate_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_from, raw_to, raw_address, raw_topics = self.normalizer.normalize_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        params = {"from_block": raw_from, "to_block": raw_to, "addresses": raw_address, "topics": raw_topics}
        log_filter = Filter(filter_params=params, filter_fn=partial(check_if_log_matches, **params))
        lower = raw_from if isinstance(raw_from, int) else self.get_block_by_number(raw_from or "latest")["number"]
        upper = raw_to if isinstance(raw_to, int) else self.get_block_by_number(raw_to or "latest")["number"]
        chain = self.backend.chain
        addresses: list[bytes] = []
        if raw_address:
            addresses = [raw_address] if isinstance(raw_address, bytes) else list(raw_address)
        inbound = self.normalizer.normalize_inbound_log_entry
        outbound = self.normalizer.normalize_outbound_log_entry
        for header, possible, memo in candidate_headers(chain, lower, upper, addresses):
            if not possible:
                continue
            block, receipts = memo if memo is not None else (chain.get_canonical_block_by_number(header.block_number),
                                                             None)
            for tx_index, transaction, log_index, log in receipt_logs(chain, block, receipts):
                # the same round trip eth-tester's own get_logs makes: backend form -> RPC form -> filter form
                log_filter.add(
                    inbound(outbound(
                        {
                            "type": "mined",
                            "log_index": log_index,
                            "transaction_index": tx_index,
                            "transaction_hash": transaction.hash,
                            "block_hash": block.hash,
                            "block_number": block.number,
                            "address": log.address,
                            "data": log.data,
                            "topics": [_int_to_32(t) for t in log.topics],
                        }
                    ))
                )
        return tuple(self.normalizer.normalize_outbound_log_entry(item) for item in log_filter.get_all())
