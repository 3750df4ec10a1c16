"""What ``pip install`` of the built wheel ships, and that it stands alone: installed into a fresh virtual environment
in a folder without the checkout, with no Node on PATH, it issues, operates and audits the example deal with the
compiled contracts and the example deals it ships."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.support.deals import ROOT


def test_package_data_names_only_files_that_exist() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    missing = [f"{pkg}/{name}" for pkg, names in data.items() for name in names
               if not any(path.is_file() for path in (ROOT / pkg).glob(name))]
    assert missing == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of what git tracks (a file the commit would lack is missing here too; setuptools'
    in-tree build/ folder would keep stale modules), links kept as links."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in tracked.decode().split("\0"):
        here = ROOT / name
        if not name or not (here.is_symlink() or here.is_file()):
            continue
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if here.is_symlink():
            (source / name).symlink_to(os.readlink(here))
        else:
            shutil.copy2(here, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check", "-w",
         str(out), str(source)],
        check=True, capture_output=True, timeout=600,
    )
    (built,) = out.glob("rwa_lease-*.whl")
    return built


def test_the_wheel_ships_the_product_and_nothing_of_the_tests(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if not n.startswith("rwa_lease-")}
    assert all(n.startswith("rwa/") for n in shipped), sorted(n for n in shipped if not n.startswith("rwa/"))
    assert not [n for n in shipped if "testing" in n or n.startswith("rwa/tests") or "conftest" in n]
    assert {"rwa/py.typed", "rwa/build/_solc_front/solc"} <= shipped
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rwa").rglob("*.py")}
    assert sources <= shipped
    artifacts = {f"rwa/build/artifacts/{p.name}" for p in (ROOT / "rwa" / "build" / "artifacts").glob("*.json")}
    assert "rwa/build/artifacts/build.json" in artifacts and artifacts <= shipped
    examples = {f"rwa/examples/{p.name}" for p in (ROOT / "examples").glob("*.toml")}
    assert "rwa/examples/deal-h800.toml" in examples and examples <= shipped


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_installed_wheel_runs_the_demo_the_replay_and_sizing_with_no_checkout_and_no_node(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    # the dependencies come from the package index (pip's cache makes a repeat quick); no byte-compiling ahead
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--no-compile", str(wheel)], tmp_path, dict(os.environ), timeout=1_200)
    print(f"fresh venv with the wheel and its dependencies in {time.monotonic() - started:.1f} s")

    work = tmp_path / "elsewhere"  # no contracts/, package.json or node_modules at or above it
    work.mkdir()
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("solc", path=env["PATH"]) is None
    rwa = str(venv / "bin" / "rwa")
    started = time.monotonic()
    _run([rwa, "demo", "--months", "3", "--holders", "6", "--out", "demo"], work, env, timeout=900)
    print(f"rwa demo --months 3 from the wheel in {time.monotonic() - started:.1f} s")
    summary = json.loads((work / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["replay_exit_code"] == 0 and summary["replay_findings"] == 0
    assert summary["periods_distributed"] == 3
    assert (work / "demo" / "audit" / "report.html").is_file()

    replay = _run([rwa, "replay", "--deployment", "demo/deployment.json", "--state", "demo/chain.sqlite",
                   "--out", "audit", "--db", "ledger.sqlite"], work, env, timeout=600)
    assert replay.stdout.startswith("reconciled")

    shipped_deal = _run([str(venv / "bin" / "python"), "-c", "from rwa.paths import example_deal; "
                         "print(example_deal())"], work, env, timeout=60).stdout.strip()
    assert Path(shipped_deal).is_relative_to(venv)
    for deal in (shipped_deal, "demo/deal.toml"):
        sized = json.loads(_run([rwa, "size", "--deal", deal, "--paths", "200", "--json"], work, env,
                                timeout=600).stdout)
        assert sized["senior_size"] > 0
    (site,) = venv.glob("lib/python3*/site-packages")
    assert not (work / "build").exists() and not (site / "build").exists()  # nothing was compiled, nowhere
