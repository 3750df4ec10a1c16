"""The example deal every test sizes, issues or simulates (never a re-declared copy of it)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DEAL = ROOT / "examples" / "deal-h800.toml"
