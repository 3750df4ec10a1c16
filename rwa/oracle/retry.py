"""Retrying a node that does not answer: bounded exponential backoff, then one ``NodeUnavailableError``.

Only a node that does not answer is retried (``NodeUnreachableError`` and the transport errors below it); any other
failure, such as a corrupt state file, a malformed URL or a reverted transaction, is raised at once: waiting would
not change it. Each retry is logged at INFO (the service's log shows it; a one-shot command prints only the final
error). ``RWA_RETRY_ATTEMPTS`` (default 5) and ``RWA_RETRY_BASE_DELAY`` (seconds, default 0.5, doubling, at
most 8) set the policy when the command line does not. :func:`open_oracle_session` is how the oracle's commands
and its service get a chain: the deployment's session, connected with these retries.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rwa.chain.connect import connect
from rwa.errors import ChainError, InputError, NodeUnreachableError
from rwa.onchain.deployment import Manifest, open_session
from rwa.settings import env_number

if TYPE_CHECKING:
    from rwa.chain.interface import Chain

log = logging.getLogger("rwa.oracle.retry")

T = TypeVar("T")


class NodeUnavailableError(ChainError):
    """The node did not answer after every retry (not itself retried: it is the end of the retries)."""


@functools.cache
def transient_errors() -> tuple[type[BaseException], ...]:
    """A node that does not answer; never a ``ChainError`` about a state file, a URL or a transaction. The transport
    libraries are imported when an error is judged, not when a command starts (its first request goes out sooner)."""
    import requests
    from web3.exceptions import ProviderConnectionError

    return (
        NodeUnreachableError,
        requests.ConnectionError,
        requests.Timeout,
        ProviderConnectionError,
        ConnectionError,
        TimeoutError,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: ``attempts`` tries, waiting ``base_delay * 2**i`` (at most ``max_delay``)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    @classmethod
    def from_env(cls, attempts: int | None = None, base_delay: float | None = None) -> RetryPolicy:
        """The given values, else ``RWA_RETRY_ATTEMPTS`` and ``RWA_RETRY_BASE_DELAY``, else the defaults; a value
        that is no whole number of attempts (1 or more) or no finite delay (0 or more seconds) is refused, named."""
        tries = attempts if attempts is not None else env_number("RWA_RETRY_ATTEMPTS", int, cls.attempts, 1)
        delay = base_delay if base_delay is not None else env_number("RWA_RETRY_BASE_DELAY", float, cls.base_delay)
        if tries < 1:  # the environment's values are checked where they are read
            raise InputError(f"--retries {tries}: must be 1 or more attempts")
        if not math.isfinite(delay) or delay < 0:
            raise InputError(f"--retry-delay {delay}: must be a finite number of seconds, 0 or more")
        return cls(attempts=tries, base_delay=delay)

    def run(self, fn: Callable[[], T], what: str) -> T:
        """``fn()``, retried while the node does not answer; ``what`` names the step in messages."""
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if not isinstance(exc, transient_errors()):
                    raise
                if attempt == self.attempts:
                    raise NodeUnavailableError(
                        f"{what}: the node did not answer after {self.attempts} attempts ({short_error(exc)}); "
                        "check that it is running and --rpc-url"
                    ) from None
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                log.info("%s: node unavailable (%s); retry %d/%d in %.2fs", what, short_error(exc), attempt,
                            self.attempts - 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def short_error(exc: BaseException) -> str:
    """The exception's type and the first line of its message, cut to fit a log line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def connect_with_retry(connect: Callable[[], Chain], policy: RetryPolicy, where: str) -> Chain:
    """``connect()`` retried while the node does not answer (``NodeUnreachableError``); any other failure, such as
    a corrupt state file or a malformed URL, is raised at once."""
    return policy.run(connect, f"connecting to {where}")


@contextlib.contextmanager
def open_oracle_session(
    deployment: Path | None, rpc_url: str | None, state: Path | None, retry: RetryPolicy
) -> Iterator[tuple[Manifest, Chain]]:
    """:func:`rwa.onchain.deployment.open_session` for the oracle: the manifest (read first, so a missing or malformed
    one
    never touches the chain), then a chain connected with retries while the node is down and checked against the
    manifest (chain id, code at the oracle); closed afterwards."""
    where = rpc_url or "the embedded chain"

    def connector() -> Chain:
        return connect_with_retry(lambda: connect(rpc_url=rpc_url, state=state), retry, where)

    with open_session(deployment, rpc_url, state, contract="oracle", connector=connector) as session:
        yield session
