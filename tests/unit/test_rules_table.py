"""The README's table of the powers that live in rules, not roles, is the one the code states."""

from __future__ import annotations

from pathlib import Path

from rwa.onchain.privileges import RULES, rules_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_states_the_rules_table() -> None:
    assert rules_markdown() in README.read_text(encoding="utf-8")


def test_nobody_moves_the_escrow_and_the_pool_takes_prepayments_from_the_register_only() -> None:
    by_call = {(r.contract, r.action): r.who for r in RULES}
    assert by_call[("register", "move the escrow")] == "nobody"
    assert by_call[("pool", "`prepay`")] == "the register only"
