"""The ``rwa`` command answers its help without importing a chain, a model or a number library, and every command
that reaches a chain takes the one option set (``rwa.cli.options.chain_options``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.main import get_command

from rwa.cli.main import app

NEVER = ("web3", "eth_account", "eth_utils", "eth", "eth_tester", "numpy", "scipy", "matplotlib")
"""Libraries a help text or a usage error never needs: each costs a large part of a second to import."""
HEAVY = (*NEVER, "pydantic")
"""... and pydantic, which the rwa command's own modules never import for a help text; typer (0.27 and newer)
imports it to coerce any sub-command's options, ``--help`` included, so a help path may load it only when typer's
own help of a command with one flag does."""

_PROBE = """
import json, sys
sys.argv = ["rwa", *json.loads(sys.argv[1])]
try:
    if sys.argv[1:2] == ["<typer>"]:  # typer's own: one command with one flag
        import typer
        app = typer.Typer()
        app.command("one")(lambda flag: None)
        app.command("two")(lambda flag: None)
        typer.main.get_command(app).main(sys.argv[2:], standalone_mode=False)
    else:
        from rwa.cli.main import main
        main()
except SystemExit:
    pass
finally:
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.__stderr__)
"""


def _loaded(args: list[str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True,
                          check=False, timeout=60)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def typer_loads() -> set[str]:
    """What typer itself imports to show a sub-command's help."""
    return _loaded(["<typer>", "one", "--help"]) & set(HEAVY)


@pytest.mark.parametrize("args", [
    ["--help"], [], ["status", "--help"], ["issue", "--help"], ["oracle", "publish", "--help"], ["oracle"],
    ["governance", "propose", "recover", "--help"], ["trade", "make", "--help"], ["replay", "--help"],
    ["value", "--help"], ["size", "--help"], ["chain", "advance", "--help"], ["demo", "--help"],
    ["status", "--no-such-option"], ["demo", "--months", "0"],
])
def test_help_and_usage_errors_import_no_heavy_library(args: list[str], typer_loads: set[str]) -> None:
    heavy = _loaded(args) & set(HEAVY)
    assert not heavy & set(NEVER), f"rwa {' '.join(args)} imported {sorted(heavy)}"
    assert heavy <= typer_loads, f"rwa {' '.join(args)} imported {sorted(heavy - typer_loads)}"


@pytest.mark.parametrize("args", [
    ["--help"], ["status", "--help"], ["oracle", "publish", "--help"], ["chain", "info", "--help"],
    ["governance", "propose", "recover", "--help"], ["oracle"],
])
def test_a_help_imports_no_pydantic(args: list[str]) -> None:
    """The groups' ``--help`` flags read False when not given (``rwa.cli.options.QuickHelpGroup``), so typer has
    nothing to convert on the way to a sub-command's help and never imports pydantic for it."""
    assert "pydantic" not in _loaded(args)


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        found.append(((*path, name), command))
        found += _commands(command, (*path, name))
    return found


def test_every_command_with_chain_options_is_given_them() -> None:
    """A command that takes ``opts: ChainOptions`` without the decorator would show ``opts`` as an argument."""
    commands = _commands(get_command(app))
    for path, command in commands:
        names = {param.name for param in getattr(command, "params", [])}
        assert "opts" not in names, f"rwa {' '.join(path)}: decorate it with @chain_options()"
    connected = {path for path, command in commands if "rpc_url" in {p.name for p in getattr(command, "params", [])}}
    # the walk finds the commands that reach a chain, in every group (not a vacuous pass over nothing)
    assert {("issue",), ("distribute",), ("status",), ("replay",), ("oracle", "publish"), ("oracle", "attest"),
            ("offering", "close"), ("fleet", "fund-equity"), ("fleet", "settle"), ("governance", "roles"),
            ("trade", "fill")} <= connected
