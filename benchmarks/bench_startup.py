"""How soon the ``rwa`` command answers: its help, and a command's start-up before its first chain request.

Every figure is the median of ``--runs`` (default 10) fresh processes of the installed ``rwa`` command, timed from
just before the process is spawned (interpreter start included):

1. ``rwa --help`` and a few ``rwa <command> --help``: until the process exits (target 0.3 s).
2. ``rwa status --rpc-url URL`` against anvil with the example deal issued on it: until the first JSON-RPC request
   arrives at a recording proxy in front of the node (target 0.5 s); the command then runs to its end against the
   node through the proxy and must succeed. ``rwa chain info --rpc-url URL`` the same way, without a manifest.
3. ``rwa status --state FILE`` on an embedded chain with the deal issued: until the process first touches the state
   file (opens it, its lock, or connects SQLite to it), seen by an audit hook installed before ``rwa`` is imported
   (target 0.5 s); the command must succeed.

The figures depend on the machine's load: the load average is printed before and after.

    python benchmarks/bench_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP_TARGET = 0.3
START_TARGET = 0.5
HELP_COMMANDS = (["--help"], ["status", "--help"], ["oracle", "publish", "--help"], ["replay", "--help"])


def rwa_command() -> list[str]:
    """The installed ``rwa`` console script beside this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("rwa")
    if not script.is_file():
        raise SystemExit(f"no rwa command beside {sys.executable}: install the package (make setup)")
    return [str(script)]


@dataclass
class Figures:
    label: str
    target: float
    seconds: list[float]

    def line(self) -> str:
        median = statistics.median(self.seconds)
        verdict = "met" if median <= self.target else "MISSED"
        return (f"{self.label:<48} median {median:6.3f} s  (min {min(self.seconds):.3f}, max {max(self.seconds):.3f})"
                f"  target {self.target:.1f} s: {verdict}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_help(args: list[str], runs: int) -> tuple[Figures, Figures]:
    """Wall time until the process exits, and its CPU time (user + system)."""
    seconds, cpu = [], []
    for _ in range(runs):
        cpu_before = _children_cpu()
        started = time.monotonic()
        done = subprocess.run([*rwa_command(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds.append(time.monotonic() - started)
        cpu.append(_children_cpu() - cpu_before)
        if done.returncode != 0:
            raise SystemExit(f"rwa {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    label = f"rwa {' '.join(args)}"
    return Figures(label, HELP_TARGET, seconds), Figures(f"{label}: CPU", 0.0, cpu)


_HOOK = """
import os, sys, time
def _first(event, args, _seen=[]):
    if not _seen and event in {events!r} and {needle!r} in str(args):
        _seen.append(1)
        os.write({fd}, f"{{time.monotonic()}} {{time.process_time()}}".encode())
sys.addaudithook(_first)
from rwa.cli.main import main
main()
"""
"""The ``rwa`` command with an audit hook that reports, on a pipe, the wall clock and the process's CPU time at its
first event of ``events`` whose arguments name ``needle`` (installed before ``rwa`` is imported; its cost is
a string test per audited event)."""


@dataclass
class Run:
    seen_at: float
    cpu_at: float
    ended: float
    started: float


def run_hooked(args: list[str], events: tuple[str, ...], needle: str) -> Run:
    read_end, write_end = os.pipe()
    program = _HOOK.format(events=events, needle=needle, fd=write_end)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, check=False,
                          pass_fds=(write_end,))
    ended = time.monotonic()
    os.close(write_end)
    seen = os.read(read_end, 128).decode().split()
    os.close(read_end)
    if done.returncode != 0 or len(seen) != 2:
        raise SystemExit(f"rwa {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    return Run(float(seen[0]), float(seen[1]), ended, started)


def time_first_request(label: str, upstream: str, args: Callable[[str], list[str]], runs: int) -> list[Figures]:
    """Start-up to the first request's arrival at the proxy, the CPU the process spent until it connected, and the
    whole command, over ``runs`` processes."""
    from tests.support.rpc_proxy import forwarding, json_rpc_server

    first, cpu, whole = [], [], []
    for _ in range(runs):
        with json_rpc_server(forwarding(upstream)) as proxy:
            run = run_hooked(args(proxy.url), ("socket.connect",), "127.0.0.1")
            assert proxy.first is not None
            first.append(proxy.first - run.started)
            cpu.append(run.cpu_at)
            whole.append(run.ended - run.started)
    return [Figures(f"{label}: first request", START_TARGET, first),
            Figures(f"{label}: CPU before connecting", 0.0, cpu), Figures(f"{label}: whole command", 0.0, whole)]


def time_first_state_read(label: str, state: Path, args: list[str], runs: int) -> list[Figures]:
    """Start-up to the process's first touch of the embedded chain's state file, its CPU until then, and the whole
    command."""
    first, cpu, whole = [], [], []
    for _ in range(runs):
        run = run_hooked(args, ("open", "sqlite3.connect"), str(state))
        first.append(run.seen_at - run.started)
        cpu.append(run.cpu_at)
        whole.append(run.ended - run.started)
    return [Figures(f"{label}: first state-file read", START_TARGET, first),
            Figures(f"{label}: CPU before it", 0.0, cpu), Figures(f"{label}: whole command", 0.0, whole)]


def issue_example(chain: object, folder: Path) -> Path:
    """The example deal issued on ``chain``; its manifest's path."""
    from rwa.chain.interface import Chain
    from rwa.issuance.issue import issue, plan_issue
    from tests.support.issuance import deal_for

    assert isinstance(chain, Chain)
    deal = deal_for(chain.accounts[15:20], folder, chain.now())
    issue(chain, plan_issue(deal), folder / "deployment.json", lambda _m: None)
    return folder / "deployment.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(ROOT))  # tests.support: the anvil launcher and the deal set-up
    load_before = os.getloadavg()
    results: list[Figures] = [figures for args in HELP_COMMANDS for figures in time_help(args, runs)]

    from eth_account import Account

    from rwa.chain.connect import connect
    from tests.support.anvil import start_anvil

    folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    node = start_anvil()
    try:
        with connect(rpc_url=node.url, accounts=[Account.from_key(k) for k in node.private_keys]) as chain:
            (folder / "rpc").mkdir()
            manifest = issue_example(chain, folder / "rpc")
        results += time_first_request("rwa status --rpc-url", node.url,
                                      lambda url: ["status", "--rpc-url", url, "--deployment", str(manifest)], runs)
        results += time_first_request("rwa chain info --rpc-url", node.url,
                                      lambda url: ["chain", "info", "--rpc-url", url], runs)
    finally:
        node.stop()

    state = folder / "embedded" / "chain.sqlite"
    state.parent.mkdir()
    with connect(state=state) as chain:
        manifest = issue_example(chain, state.parent)
    results += time_first_state_read("rwa status --state", state,
                                     ["status", "--state", str(state), "--deployment", str(manifest)], runs)

    print(f"median of {runs} runs each; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
          f"({os.cpu_count()} cores)")
    for figures in results:
        print(figures.line() if figures.target else
              f"{figures.label:<48} median {statistics.median(figures.seconds):6.3f} s  (information)")


if __name__ == "__main__":
    main()
