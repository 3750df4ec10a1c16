"""The replay's word-by-word decoding of static event fields gives exactly what eth-abi gives, dirty words included
(those go to eth-abi, which refuses them the same way)."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.replay.ingest import checksummed, decode_words, word_decoders

KINDS = ["uint256", "uint64", "uint8", "int256", "int64", "int8", "address", "bool", "bytes32", "bytes4"]


def _value(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("uint"):
        return st.integers(0, 2 ** int(kind[4:]) - 1)
    if kind.startswith("int"):
        bits = int(kind[3:])
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if kind == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: checksummed("0x" + b.hex()))
    if kind == "bool":
        return st.booleans()
    return st.binary(min_size=int(kind[5:]), max_size=int(kind[5:]))


def _same(kinds: list[str], a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return all(checksummed(x) == checksummed(y) if k == "address" else x == y for k, x, y in zip(kinds, a, b,
                                                                                                    strict=True))


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[list[str], list[Any]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    return kinds, [draw(_value(k)) for k in kinds]


@settings(max_examples=300, deadline=None)
@given(typed_values())
def test_clean_words_decode_as_eth_abi_decodes_them(case: tuple[list[str], list[Any]]) -> None:
    kinds, values = case
    data = encode(kinds, values)
    decoders = word_decoders(kinds)
    assert decoders is not None
    assert _same(kinds, decode_words(kinds, decoders, data), tuple(decode(kinds, data)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4), st.data())
def test_any_words_decode_as_eth_abi_or_fail_as_it_fails(kinds: list[str], data: st.DataObject) -> None:
    raw = data.draw(st.binary(min_size=32 * len(kinds), max_size=32 * len(kinds)))
    try:
        expected: tuple[Any, ...] | None = tuple(decode(kinds, raw))
    except DecodingError:
        expected = None
    decoders = word_decoders(kinds)
    if expected is None:
        try:
            decode_words(kinds, decoders, raw)
        except DecodingError:
            return
        raise AssertionError(f"{kinds}: eth-abi refuses {raw.hex()}, the word decoder accepted it")
    assert _same(kinds, decode_words(kinds, decoders, raw), expected)


def test_dynamic_and_compound_types_are_left_to_eth_abi() -> None:
    assert word_decoders(["uint256", "string"]) is None
    assert word_decoders(["uint256[]"]) is None
    assert word_decoders(["(uint256,address)"]) is None
