"""The smallest end-to-end run: compile, deploy a contract on the embedded chain, use it, and say what happened."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from rwa.chain import connect
from rwa.compile import load_build
from rwa.onchain_basic import deploy_test_stablecoin


def run_bootstrap_demo(console: Console, state: Path | None = None) -> None:
    build = load_build()
    console.print(
        f"[bold]build[/] {len(build.artifacts)} contracts, solc {build.compiler_version}"
        f" ({'cache' if build.from_cache else 'fresh compile'})"
    )
    with connect(state=state) as chain:
        owner, holder = chain.accounts[0].address, chain.accounts[1].address
        token = deploy_test_stablecoin(chain, owner)
        from rwa.tx import send

        receipt = send(token.functions.mint(holder, 1_000_000 * 10**6), owner)
        console.print(f"[bold]chain[/] {chain.kind} id {chain.chain_id} at {chain.location}")
        console.print(f"deployed TestStablecoin at {token.address}")
        console.print(
            f"minted 1,000,000.000000 tUSD to {holder} in block {receipt['blockNumber']}"
            f" (gas {receipt['gasUsed']:,}); balance {token.functions.balanceOf(holder).call() / 10**6:,.6f}"
        )
