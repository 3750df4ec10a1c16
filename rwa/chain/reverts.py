"""Turn revert data into the custom error's name and arguments, whichever backend produced it.

eth-tester raises ``TransactionFailed`` carrying the raw return bytes; a JSON-RPC node answers with an error whose
``data`` holds them (web3 wraps it in ``ContractLogicError``/``ContractCustomError``). Both end up here, decoded
against every error declared in the project's ABIs, plus Solidity's ``Error(string)`` and ``Panic(uint256)``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from rwa.errors import ContractRevertError

_PANICS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "bad storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}


def _abi_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


class ErrorDecoder:
    """A selector table built from ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]] = ()) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        self.add({"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]})
        self.add({"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]})
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    self.add(item)

    def add(self, item: dict[str, Any]) -> None:
        types = [_abi_type(p) for p in item["inputs"]]
        names = [p.get("name") or f"arg{i}" for i, p in enumerate(item["inputs"])]
        selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
        self._errors[selector] = (str(item["name"]), names, types)

    def decode(self, data: bytes, contract: str = "") -> ContractRevertError:
        if len(data) < 4:
            return ContractRevertError("EmptyRevert", {}, data, contract)
        entry = self._errors.get(data[:4])
        if entry is None:
            return ContractRevertError("UnknownError", {"selector": data[:4], "data": data[4:]}, data, contract)
        name, names, types = entry
        try:
            values = decode(types, data[4:])
        except Exception:
            return ContractRevertError(name, {"undecodable": data[4:]}, data, contract)
        args = {n: _plain(v, t) for n, v, t in zip(names, values, types, strict=True)}
        if name == "Panic":
            args["meaning"] = _PANICS.get(int(args["code"]), "unknown panic")
        return ContractRevertError(name, args, data, contract)


def _plain(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    return value


_HEX = re.compile(r"0x[0-9a-fA-F]*")


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert bytes carried by an exception from either backend, or None when it is not a revert."""
    from web3.exceptions import ContractLogicError

    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, bytes):
            return data
        if isinstance(data, str) and _HEX.fullmatch(data):
            return bytes.fromhex(data[2:])
        return b""
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:  # pragma: no cover - eth-tester is a runtime dependency
        return None
    if isinstance(exc, TransactionFailed):
        return _from_tester_message(exc.args[0] if exc.args else b"")
    return None


def _from_tester_message(raw: object) -> bytes:
    """eth-tester reports ``execution reverted: b'...'`` (a bytes repr) or hex; recover the bytes."""
    if isinstance(raw, bytes):
        return raw
    text = str(raw).removeprefix("execution reverted:").strip()
    if text.startswith(("b'", 'b"')):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return b""
        return value if isinstance(value, bytes) else b""
    if _HEX.fullmatch(text):
        return bytes.fromhex(text[2:])
    return b""
