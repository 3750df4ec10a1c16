"""The deal's timelock (OpenZeppelin's TimelockController as ``DealTimelock``): every privileged call is announced,
waits the delay, and can be cancelled by the trustee before anyone runs it.

A call is named by its operation id (``hashOperation(target, 0, data, 0, salt)``): :class:`Call` carries what
:meth:`DealTimelock.schedule`, :meth:`DealTimelock.execute` and :meth:`DealTimelock.cancel` need, and the
``CallScheduled`` event announces the exact target and calldata so that holders (and the auditor) can read it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils.crypto import keccak
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.onchain.base import ANYONE, ContractWrapper, Role, create, to_address

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

NO_PREDECESSOR = bytes(32)


class State(enum.IntEnum):
    """``TimelockController.OperationState``."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


@dataclass(frozen=True)
class Call:
    """One call through the timelock: ``target`` with calldata ``data``; ``salt`` tells apart repeats."""

    target: str
    data: bytes
    salt: bytes = bytes(32)
    description: str = ""

    @classmethod
    def of(cls, fn: ContractFunction, description: str = "", salt: bytes | None = None) -> Call:
        """The call ``fn`` (a bound contract function with its arguments) would make."""
        data = bytes.fromhex(fn._encode_transaction_data()[2:])
        return cls(to_address(fn.address), data, salt if salt is not None else keccak(text=description or "call"),
                   description)


class DealTimelock(ContractWrapper):
    CONTRACT = "DealTimelock"
    ROLES = (Role.DEFAULT_ADMIN_ROLE, Role.PROPOSER_ROLE, Role.EXECUTOR_ROLE, Role.CANCELLER_ROLE)

    @classmethod
    def deploy(
        cls, chain: Chain, delay: int, proposers: Sequence[str], *, admin: str, executors: Sequence[str] = (ANYONE,),
        batch: Batch | None = None,
    ) -> DealTimelock:
        """Deploy with ``delay`` seconds; ``admin`` may grant roles until it renounces (issuance does at once)."""
        if delay <= 0:
            raise InputError(f"timelock delay {delay}: must be positive")
        contract = create(chain, "DealTimelock", delay, [to_address(p) for p in proposers],
                          [to_address(e) for e in executors], to_address(admin), sender=admin, batch=batch)
        return cls(chain, contract)

    def min_delay(self) -> int:
        return int(self._call(self.contract.functions.getMinDelay()))

    def operation_id(self, call: Call) -> bytes:
        return bytes(self._call(self.contract.functions.hashOperation(call.target, 0, call.data, NO_PREDECESSOR,
                                                                      call.salt)))

    def state(self, call: Call) -> State:
        return State(int(self._call(self.contract.functions.getOperationState(self.operation_id(call)))))

    def ready_at(self, call: Call) -> int:
        """The time the call may run from (0: not scheduled; 1: done)."""
        return int(self._call(self.contract.functions.getTimestamp(self.operation_id(call))))

    def schedule(self, call: Call, *, sender: str, delay: int | None = None) -> TxReceipt:
        """Announce ``call`` (a proposer); it may run ``delay`` (default: the minimum) seconds from now."""
        wait = self.min_delay() if delay is None else delay
        fn = self.contract.functions.schedule(call.target, 0, call.data, NO_PREDECESSOR, call.salt, wait)
        return self._send_estimated(fn, sender)

    def execute(self, call: Call, *, sender: str) -> TxReceipt:
        """Run ``call`` once its delay has passed (anyone, when the executor role is open)."""
        fn = self.contract.functions.execute(call.target, 0, call.data, NO_PREDECESSOR, call.salt)
        return self._send_estimated(fn, sender)

    def cancel(self, call: Call, *, sender: str) -> TxReceipt:
        """Cancel a scheduled ``call`` (the trustee, or the proposer)."""
        return self._send_estimated(self.contract.functions.cancel(self.operation_id(call)), sender)

