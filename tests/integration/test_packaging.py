"""What ``pip install .`` ships: the package and its data, no test scaffolding, no file the project lacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.support.deals import ROOT


def test_package_data_names_only_files_that_exist() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    missing = [f"{pkg}/{name}" for pkg, names in data.items() for name in names if not (ROOT / pkg / name).is_file()]
    assert missing == []


def test_the_wheel_ships_the_product_and_nothing_of_the_tests(tmp_path: Path) -> None:
    # built from a copy of what is tracked: setuptools' in-tree build/ folder would keep stale modules
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check", "-w",
         str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = tmp_path.glob("rwa_lease-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if not n.startswith("rwa_lease-")}
    assert all(n.startswith("rwa/") for n in shipped), sorted(n for n in shipped if not n.startswith("rwa/"))
    assert not [n for n in shipped if "testing" in n or n.startswith("rwa/tests") or "conftest" in n]
    assert {"rwa/py.typed", "rwa/build/_solc_front/solc"} <= shipped
    sources = {str(p.relative_to(source)) for p in (source / "rwa").rglob("*.py")}
    assert sources <= shipped
