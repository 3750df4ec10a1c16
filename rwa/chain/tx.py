"""Deploying contracts and sending transactions, with reverts surfacing as decoded custom errors."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, cast

from eth_abi.abi import decode, encode
from eth_typing import HexStr
from eth_utils.abi import (
    collapse_if_tuple,
    get_abi_input_types,
    get_abi_output_types,
)
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.base_contract import BaseContractFunctions
from web3.contract.contract import ContractFunction, ContractFunctions
from web3.types import BlockIdentifier, TxReceipt

from rwa.build.compile import Build, load_build
from rwa.chain.interface import Chain, chain_of, checksummed
from rwa.chain.reverts import ErrorDecoder, revert_data
from rwa.errors import ChainError, ContractRevertError


@functools.lru_cache(maxsize=8)
def _decoder_for(key: str) -> ErrorDecoder:
    return ErrorDecoder(art.abi for art in load_build().artifacts.values())


def decoder(build: Build | None = None) -> ErrorDecoder:
    return _decoder_for((build or load_build()).key)


def reraise_revert(exc: BaseException, contract: str = "") -> None:
    """Raise ``ContractRevertError`` for ``exc`` if it is a revert; otherwise return and let the caller re-raise."""
    data = revert_data(exc)
    if data is not None:
        raise decoder().decode(data, contract) from None


def contract_at(chain: Chain, name: str, address: str) -> Contract:
    """The build's contract ``name`` bound at ``address`` on ``chain``: made once per connection, build and address
    (web3.py parses the whole ABI for each new binding)."""
    build = load_build()
    key = (id(chain.w3), build.key, name, address.lower())
    contract = _bound.get(key)
    if contract is None or contract.w3 is not chain.w3:
        made = chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=build[name].abi)
        assert isinstance(made, Contract)
        functions = ContractFunctions.__new__(ContractFunctions)
        BaseContractFunctions.__init__(functions, made.abi, chain.w3, _BoundFunction, made.address,
                                       made.decode_tuples)
        made.functions = functions
        if len(_bound) >= 4_096:
            _bound.clear()
        contract = _bound[key] = made
    return contract


_bound: dict[tuple[int, str, str, str], Contract] = {}


class _BoundFunction(ContractFunction):
    """web3.py's contract function, bound to its arguments without matching them against the whole ABI.

    web3.py picks the overload a call means by testing every argument against every function of the name, and
    validates the contract's whole ABI, on each call: a tenth of a millisecond, more than a small view's EVM run
    on the direct path. The project's contracts name each function once, so a call of a name the ABI holds once,
    with positional arguments numbering its inputs, is that function: it is bound at once (the arguments are
    checked by eth-abi when encoded). Anything else (an overloaded name, keyword arguments, another count) goes
    through web3.py's matching and its errors."""

    def __call__(self, *args: Any, **kwargs: Any) -> Self:
        abi = self.abi
        if kwargs or len(args) != len(abi.get("inputs", ())) or not _named_once(self.contract_abi, abi["name"]):
            return super().__call__(*args, **kwargs)
        clone = copy.copy(self)
        clone.args, clone.kwargs, clone.arguments = args, {}, args
        clone.selector = _codec_of(abi).selector_hex
        return clone


_once: dict[tuple[int, str], tuple[Any, bool]] = {}


def _named_once(abi: Any, name: str) -> bool:
    """Whether the contract ABI ``abi`` has one function called ``name`` (remembered per ABI object)."""
    key = (id(abi), name)
    known = _once.get(key)
    if known is None or known[0] is not abi:
        once = sum(1 for e in abi if e.get("type") == "function" and e.get("name") == name) == 1
        known = _once[key] = (abi, once)
    return bool(known[1])


def deploy(chain: Chain, name: str, *args: Any, sender: str | None = None, gas: int | None = None) -> Contract:
    """Deploy the project's contract ``name`` with constructor ``args``; returns the bound contract."""
    art = load_build()[name]
    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    data = bytes.fromhex(str(factory.constructor(*args).data_in_transaction).removeprefix("0x"))
    receipt = _transact(chain, sender or chain.accounts[0].address, None, data, gas, 0, name)
    if not receipt.get("contractAddress"):
        raise ChainError(f"deploying {name} failed in transaction {receipt['transactionHash'].hex()}")
    return contract_at(chain, name, str(receipt["contractAddress"]))


def send(fn: ContractFunction, sender: str, gas: int | None = None, value: int = 0) -> TxReceipt:
    """Send ``fn`` from ``sender`` and wait for its receipt; a revert raises ``ContractRevertError``.

    Without ``gas`` the chain's default applies: on a node its estimate, which surfaces a revert before anything is
    sent; on the embedded chain a limit near the block's (py-evm estimates by bisection, re-running the call about
    twenty times), whose failed receipt is re-run as a call at its block to decode the reason.
    """
    name = str(getattr(fn, "address", ""))
    return _transact(chain_of(fn.w3), sender, name, _codec(fn).encode(fn), gas, value, name)


def _transact(chain: Chain, sender: str, to: str | None, data: bytes, gas: int | None, value: int,
              name: str) -> TxReceipt:
    """Send, wait for the receipt, and raise the custom error a failed transaction reverts with."""
    limit = gas if gas is not None else chain.backend.default_gas_limit
    try:
        tx_hash = chain.transact(sender, to, data, limit, value)
    except Exception as exc:
        reraise_revert(exc, name)
        raise
    receipt = cast(TxReceipt, chain.wait_for_receipt(tx_hash))
    if receipt["status"] != 1:
        # run it again as a call on the state before its block: the custom error it reverts with
        ok, output = chain.call(to, data, sender, int(receipt["blockNumber"]) - 1)
        if not ok and output:
            raise decoder().decode(output, name)
        if to is None:
            raise ChainError(f"deploying {name} failed in transaction {tx_hash}")
        raise ContractRevertError("OutOfGasOrUnknown", {"tx": tx_hash, "gas": limit}, b"", name)
    return receipt


def send_value(chain: Chain, sender: str, to: str, value: int) -> TxReceipt:
    """Send ``value`` wei of the chain's native coin from ``sender`` to ``to`` (21,000 gas) and wait for it."""
    return _transact(chain, sender, to, b"", 21_000, value, "")


def call(fn: ContractFunction, sender: str | None = None, block: BlockIdentifier = "latest") -> Any:
    """A view call at ``block`` whose revert is decoded like a transaction's."""
    codec = _codec(fn)
    ok, output = chain_of(fn.w3).call(str(fn.address), codec.encode(fn), _origin(fn.w3, sender), block)
    if not ok:
        raise decoder().decode(output, str(fn.address))
    return codec.decode(output)


def _origin(w3: Web3, sender: str | None) -> str:
    """Who a view call is made from: ``sender``, else the connection's default account, else the zero address
    (an auditor's connection holds no key)."""
    if sender:
        return sender
    default = w3.eth.default_account
    return str(default) if isinstance(default, str) else "0x" + "00" * 20


def encode_call(fn: ContractFunction) -> bytes:
    """The calldata of ``fn``: its selector and ABI-encoded arguments."""
    return _codec(fn).encode(fn)


READ_BATCH_RESULT_BYTES = 20_000
"""What a :func:`call_many` batch may return: its results come back as the code of a contract that is never
deployed, which a node caps at 24,576 bytes (EIP-170)."""


def call_many(fns: Sequence[ContractFunction], sender: str | None = None, block: BlockIdentifier = "latest",
              *, batch: bool | None = None) -> list[Any]:
    """Several view calls in one ``eth_call`` at one block (``ReadBatch``, sent as creation code and never
    deployed); each result as :func:`call` returns it, and the first revert decoded like a transaction's.

    A step that needs several reads asks for them together: one round trip on a node. Where a view costs no round
    trip (the embedded chain's fast path, :attr:`rwa.chain.interface.Chain.local_views`) there is none to save, and
    the batch's ABI work in the EVM costs more than the views it joins (measured: 16.1 ms against 6.4 ms for 12
    views), so each view runs on its own at the same head unless ``batch`` asks for ``ReadBatch`` anyway (the tests
    do). The caller keeps a batch's results under
    :data:`READ_BATCH_RESULT_BYTES`."""
    if not fns:
        return []
    w3 = fns[0].w3
    chain = chain_of(w3)
    origin = _origin(w3, sender)
    if not batch and chain.local_views:
        return [call(fn, origin, block) for fn in fns]
    codecs = [_codec(fn) for fn in fns]
    calls = [(str(fn.address), codec.encode(fn)) for fn, codec in zip(fns, codecs, strict=True)]
    data = _read_batch_code() + encode(["(address,bytes)[]"], [calls])
    ok, output = chain.call(None, data, origin, block)
    if not ok:
        raise decoder().decode(output, "ReadBatch")
    return _results(calls, codecs, output)


def _results(calls: list[tuple[str, bytes]], codecs: list[_Codec], output: bytes) -> list[Any]:
    """Each call's result from ``ReadBatch``'s output, the first failed one raised as its decoded revert."""
    (results,) = decode(["(bool,bytes)[]"], output)
    out = []
    for (address, _), codec, (success, raw) in zip(calls, codecs, results, strict=True):
        if not success:
            raise decoder().decode(bytes(raw), address)
        out.append(codec.decode(bytes(raw)))
    return out


@functools.lru_cache(maxsize=4)
def _read_batch_code_for(key: str) -> bytes:
    return bytes.fromhex(load_build()["ReadBatch"].bytecode.removeprefix("0x"))


def _read_batch_code() -> bytes:
    return _read_batch_code_for(load_build().key)


@dataclass(frozen=True)
class _Codec:
    """One function's ABI, ready to encode its arguments and decode its result as web3.py would."""

    abi: dict[str, Any]
    selector: bytes
    inputs: tuple[str, ...]
    names: tuple[str, ...]
    outputs: tuple[str, ...]
    plain: bool
    """Outputs that web3.py returns as eth-abi decodes them (no address to checksum, no array or tuple)."""
    normalizers: tuple[Callable[[Any], Any], ...]
    """Per output, what web3.py makes of it (:func:`_normalizer`: addresses checksummed, arrays as lists, tuples
    kept)."""
    selector_hex: HexStr

    def encode(self, fn: ContractFunction) -> bytes:
        args = list(fn.args)
        if fn.kwargs:
            args.extend(fn.kwargs[n] for n in self.names[len(args):])
        return self.selector + encode(self.inputs, args)

    def decode(self, output: bytes) -> Any:
        values: Sequence[Any] = decode(self.outputs, output)
        if not self.plain:
            values = [f(v) for f, v in zip(self.normalizers, values, strict=True)]
        return values[0] if len(values) == 1 else list(values)


_codecs: dict[int, _Codec] = {}


def _codec(fn: ContractFunction) -> _Codec:
    return _codec_of(fn.abi)


def _codec_of(abi: Any) -> _Codec:
    codec = _codecs.get(id(abi))
    if codec is None or codec.abi is not abi:
        inputs = tuple(get_abi_input_types(abi))
        outputs = tuple(get_abi_output_types(abi))
        selector = bytes(keccak(text=f"{abi['name']}({','.join(inputs)})")[:4])
        plain = all(t != "address" and "[" not in t and not t.startswith("(") for t in outputs)
        names = tuple(str(p.get("name", "")) for p in abi["inputs"])
        codec = _Codec(cast(dict[str, Any], abi), selector, inputs, names, outputs, plain,
                       tuple(_normalizer(p, named=False) for p in abi.get("outputs", ())),
                       HexStr("0x" + selector.hex()))
        _codecs[id(abi)] = codec
    return codec


def _identity(value: Any) -> Any:
    return value


def _normalizer(param: Mapping[str, Any], named: bool) -> Callable[[Any], Any]:
    """What web3.py makes of a decoded value of ABI ``param``: addresses checksummed, arrays as lists, and tuples
    kept as tuples (a view's result, ``map_abi_data`` with its return normalizers) or, ``named``, as dicts by
    component name (an event's argument, ``named_tree`` after it)."""
    kind = str(param["type"])
    if kind.endswith("]"):
        item = _normalizer({**param, "type": kind[: kind.rindex("[")]}, named)
        return lambda value: [item(x) for x in value]
    if kind == "tuple":
        parts = [_normalizer(c, named) for c in param["components"]]
        if named:
            names = [str(c["name"]) for c in param["components"]]
            return lambda value: {n: f(x) for n, f, x in zip(names, parts, value, strict=True)}
        return lambda value: tuple(f(x) for f, x in zip(parts, value, strict=True))
    return checksummed if kind == "address" else _identity


@dataclass(frozen=True)
class _EventCodec:
    """One event's ABI, ready to decode its logs as web3.py's ``process_receipt`` does."""

    topic: bytes
    indexed: tuple[tuple[str, str, Callable[[Any], Any]], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    data_normalizers: tuple[Callable[[Any], Any], ...]
    order: tuple[str, ...]


_event_codecs: dict[tuple[int, str], tuple[Any, _EventCodec | None]] = {}


def _event_codec(contract: Contract, name: str) -> _EventCodec | None:
    """``name``'s codec in ``contract``'s ABI; None when an indexed argument is dynamic (only its hash is
    logged), which web3.py decodes its own way. Kept per ABI object (checked by identity, as :func:`_codec_of`
    does: a rebuilt ABI may reuse a freed one's id)."""
    key = (id(contract.abi), name)
    known = _event_codecs.get(key)
    if known is not None and known[0] is contract.abi:
        return known[1]
    abi: Any = next(e for e in contract.abi if e.get("type") == "event" and e.get("name") == name)
    params = [(p, collapse_if_tuple(p), bool(p.get("indexed"))) for p in abi["inputs"]]
    codec: _EventCodec | None = None
    if not abi.get("anonymous") and not any(i and ("[" in t or t.startswith("(") or t in ("string", "bytes"))
                                            for _, t, i in params):
        codec = _EventCodec(
            bytes(keccak(text=f"{name}({','.join(t for _, t, _ in params)})")),
            tuple((str(p["name"]), t, _normalizer(p, named=True)) for p, t, i in params if i),
            tuple(str(p["name"]) for p, _, i in params if not i),
            tuple(t for _, t, i in params if not i),
            tuple(_normalizer(p, named=True) for p, _, i in params if not i),
            tuple(str(p["name"]) for p, _, _ in params),
        )
    _event_codecs[key] = (contract.abi, codec)
    return codec


def event_args(contract: Contract, name: str, receipt: Any) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event that ``contract`` logged in ``receipt``, in log order: what web3.py's
    ``process_receipt(errors=DISCARD)`` gives as each event's ``args`` (the tests compare them), decoded straight
    from the ABI instead of matching every log against it."""
    codec = _event_codec(contract, name)
    if codec is None:
        from web3.logs import DISCARD

        return [dict(e["args"]) for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)]
    address = str(contract.address).lower()
    out = []
    for log in receipt["logs"]:
        topics = log["topics"]
        if (str(log["address"]).lower() != address or len(topics) != len(codec.indexed) + 1
                or bytes(topics[0]) != codec.topic):
            continue
        args: dict[str, Any] = {n: f(decode([t], bytes(topic))[0])
                                for (n, t, f), topic in zip(codec.indexed, topics[1:], strict=True)}
        values = decode(codec.data_types, bytes(log["data"]))
        args.update((n, f(v)) for n, f, v in zip(codec.data_names, codec.data_normalizers, values, strict=True))
        out.append({n: args[n] for n in codec.order})
    return out
