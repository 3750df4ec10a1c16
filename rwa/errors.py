"""The project's exceptions: one root, with subclasses that also inherit the built-in they resemble.

Every error a user can cause reaches them as one line (``str(exc)``) and an exit code (``exc.exit_code``):
2 for bad input (a deal file, a flag, a manifest), 1 for a failure of the job itself (a revert, a compile error).
"""

from __future__ import annotations

from typing import Any


class RwaError(Exception):
    """Root of every error the project raises on purpose."""

    exit_code: int = 1


class InputError(RwaError, ValueError):
    """The user gave something unusable: a flag, a file, a value. Nothing was changed."""

    exit_code = 2


class DealConfigError(InputError):
    """A deal file is missing, malformed or inconsistent; the message names the field."""


class CompileError(RwaError):
    """Solidity did not compile; the message is ``file:line: message`` for the first error."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class ToolchainError(RwaError, RuntimeError):
    """No usable Solidity compiler or node binary; the message says how to get one."""


class ChainError(RwaError):
    """The chain cannot be used: its state file, its URL, or a transaction that did not go through."""

    exit_code = 2


class NodeUnreachableError(ChainError, ConnectionError):
    """A JSON-RPC node did not answer: the one chain failure that is worth retrying."""


class StateFileError(ChainError):
    """The embedded chain's state file is corrupt, locked or belongs to another chain; never silently reset."""


class ContractRevertError(RwaError):
    """A transaction or call reverted; carries the decoded custom error and its arguments."""

    def __init__(self, error_name: str, args: dict[str, Any], raw: bytes = b"", contract: str = "") -> None:
        self.error_name = error_name
        self.error_args = args
        self.raw = raw
        self.contract = contract
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        where = f"{contract}: " if contract else ""
        super().__init__(f"{where}reverted with {error_name}({shown})")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
