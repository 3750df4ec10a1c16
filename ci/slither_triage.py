"""Fail when Slither reports a high or medium finding that SLITHER_TRIAGE.md does not list.

A finding is identified by (detector, contract, function): stable across edits that only move lines. The triage
file lists them in a Markdown table whose first three columns are detector, contract and function (``*`` matches
any function of the contract), and whose fourth gives the reason. Runs on the Slither venv's Python (stdlib only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GATED = {"High", "Medium"}


def _locate(element: dict) -> tuple[str, str]:
    """(contract, function) of a result element, climbing from a node or variable to its function."""
    current: dict | None = element
    function = "*"
    while current:
        kind = current.get("type")
        if kind == "function" and function == "*":
            function = current.get("name", "*")
        if kind == "contract":
            return current.get("name", "?"), function
        current = current.get("type_specific_fields", {}).get("parent")
    return "?", function


def findings(report: dict) -> list[tuple[str, str, str, str, str]]:
    out = []
    for result in report.get("results", {}).get("detectors", []):
        if result.get("impact") not in GATED:
            continue
        elements = result.get("elements") or [{}]
        contract, function = _locate(elements[0])
        out.append((result["check"], contract, function, result["impact"], result.get("description", "").strip()))
    return out


def triaged(path: Path) -> set[tuple[str, str, str]]:
    keys = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] and not set(cells[0]) <= {"-", ":"} and cells[0].lower() != "detector":
            keys.add((cells[0], cells[1], cells[2]))
    return keys


def main(report_path: str, triage_path: str) -> int:
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    if not report.get("success", False):
        print(f"slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    allowed = triaged(Path(triage_path))
    found = findings(report)
    untriaged = [f for f in found if (f[0], f[1], f[2]) not in allowed and (f[0], f[1], "*") not in allowed]
    for detector, contract, function, impact, description in found:
        mark = "UNTRIAGED" if (detector, contract, function, impact, description) in untriaged else "triaged"
        print(f"[{mark}] {impact} {detector} {contract}.{function}: {description.splitlines()[0]}")
    if untriaged:
        print(
            f"{len(untriaged)} high/medium Slither finding(s) not triaged: fix them, or add a row "
            f"`| detector | Contract | function | reason |` to {triage_path}",
            file=sys.stderr,
        )
        return 1
    print(f"slither: {len(found)} high/medium finding(s), all triaged in {triage_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
