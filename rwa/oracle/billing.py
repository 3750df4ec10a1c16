"""Revenue sources: a billing export (CSV or JSON), validated row by row, one row per period.

Columns (CSV header / JSON keys), one row per period:

==================  ========  ===========================================================================
column              required  meaning
==================  ========  ===========================================================================
period              yes       1-based period number of the deal (integer)
revenue             yes       revenue collected in the period, integer smallest units of the stablecoin
utilization_bps     yes       average billed utilization, integer basis points 0..10000
active_servers      yes       servers in service and under lease in the period (integer)
contracted_rent     yes       rent due under the lease contracts for the period, integer smallest units
source_revenue      paired    the revenue in the currency the cluster bills in, integer smallest units at the
                              stablecoin's decimals (10^-6 RMB for a 6-decimal stablecoin)
fx_rate             paired    the rate ``revenue`` was converted at: stablecoin smallest units per source
                              smallest unit times 10**18 (``rwa.model.units.FX_RATE_SCALE``), an integer;
                              ``revenue`` must be ``source_revenue * fx_rate // 10**18``
tape                no        the lease tape: a list of rows (a JSON array; in a CSV cell, the same as JSON),
                              one per lease of the deal's register in lease order, each with ``lease``,
                              ``servers``, ``billed``, ``collected`` (integers, the source currency's smallest
                              units) and ``days_past_due``; ``billed`` must add up to ``source_revenue`` and
                              ``servers`` to ``active_servers``. Kept and hashed with the rest, as the
                              compact JSON of its rows (keys sorted, integers), however it was given
anything else       no        raw billing fields (invoice ids, lessee, notes...): kept and hashed
==================  ========  ===========================================================================

The tape, when an export does not carry it in its rows (a CSV export usually does not), comes from a companion CSV
(``--tape FILE``) with the header ``period,lease,servers,billed,collected,days_past_due`` and one line per lease
and period (``days_past_due`` may be left empty for 0); its rows become the ``tape`` of the export's row of that
period, in lease order, before the row is validated and hashed, exactly as if the export had carried them. A period
of the companion that the export lacks, a row out of lease order, or a tape given both ways is refused.

A report is accepted only with a tape of one row per lease of the deal's fleet register (the oracle checks it
against the register: a lease billed for servers not delivered, or a revenue that is not the tape's total, is
refused), so an export must carry its tape one way or the other.

Paired: an export gives both conversion columns or neither. Without them (exports written before reports carried a
conversion) the revenue is the stablecoin's own, reported as source = revenue at the rate 10**18. A row whose
revenue is not its source revenue at its rate is refused before anything is signed, as the oracle would refuse it.

JSON is either a list of row objects or ``{"rows": [...]}``; integers may be given as JSON integers or as strings of
digits (for amounts beyond 2**53). Amounts with a decimal point are refused: the export must already be in the
smallest unit.

``dataHash`` of a period is ``keccak256`` of the row's canonical encoding: a JSON object of every column of the row
(required and raw), keys sorted, values as strings (integers in plain decimal, other JSON values as compact JSON),
no whitespace, UTF-8. The same row always hashes the same whether it came from CSV or JSON.

Every problem raises :class:`~rwa.errors.InputError` with one line naming the file, the row and the field.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from rwa.errors import InputError
from rwa.model.fleet import LeaseRow
from rwa.model.units import BPS, FX_RATE_SCALE, UINT32_MAX, UINT64_MAX, UINT96_MAX, UINT128_MAX, fx_convert_down
from rwa.onchain.oracle import Report

REQUIRED = ("period", "revenue", "utilization_bps", "active_servers", "contracted_rent")
CONVERSION = ("source_revenue", "fx_rate")
"""The conversion columns: both or neither (see the module docstring)."""
_LIMITS = {
    "period": UINT64_MAX,
    "revenue": UINT128_MAX,
    "utilization_bps": BPS,
    "active_servers": UINT32_MAX,
    "contracted_rent": UINT128_MAX,
    "source_revenue": UINT128_MAX,
    "fx_rate": UINT96_MAX,
}
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class BillingRow:
    """One period's billing: the figures, the conversion, and every raw column (canonical strings) for the data
    hash."""

    period: int
    revenue: int
    utilization_bps: int
    active_servers: int
    contracted_rent: int
    source_revenue: int
    fx_rate: int
    raw: dict[str, str] = field(default_factory=dict)
    where: str = ""
    tape: tuple[LeaseRow, ...] = ()

    @property
    def converted(self) -> bool:
        """Whether the row gave its conversion (else it is the stablecoin's revenue at the rate 10**18)."""
        return all(name in self.raw for name in CONVERSION)

    def canonical(self) -> bytes:
        return json.dumps(self.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def data_hash(self) -> bytes:
        return bytes(keccak(self.canonical()))

    def to_report(self) -> Report:
        return Report(self.period, self.revenue, self.utilization_bps, self.active_servers, self.contracted_rent,
                      self.data_hash(), source_revenue=self.source_revenue, fx_rate=self.fx_rate, tape=self.tape)


def make_row(values: dict[str, Any], where: str = "") -> BillingRow:
    """Validate one row's mapping into a :class:`BillingRow`; ``where`` prefixes every error message."""
    raw: dict[str, str] = {}
    for key, value in values.items():
        name = str(key).strip()
        if not name:
            continue
        raw[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    figures: dict[str, int] = {}
    for name in REQUIRED:
        if name not in values or values[name] is None or (isinstance(values[name], str) and not values[name].strip()):
            raise InputError(f"{where}: {name}: missing")
        figures[name] = _integer(values[name], _LIMITS[name], f"{where}: {name}")
        raw[name] = str(figures[name])
    if figures["period"] == 0:
        raise InputError(f"{where}: period: must be >= 1")
    given = [name for name in CONVERSION if name in values]
    if len(given) == 1:
        (missing,) = set(CONVERSION) - set(given)
        raise InputError(f"{where}: {missing}: missing (a row gives both {' and '.join(CONVERSION)} or neither)")
    if given:
        for name in CONVERSION:
            if values[name] is None or (isinstance(values[name], str) and not values[name].strip()):
                raise InputError(f"{where}: {name}: missing")
            figures[name] = _integer(values[name], _LIMITS[name], f"{where}: {name}")
            raw[name] = str(figures[name])
        expected = fx_convert_down(figures["source_revenue"], figures["fx_rate"])
        if figures["revenue"] != expected:
            raise InputError(
                f"{where}: revenue: {figures['revenue']} is not source_revenue {figures['source_revenue']} at "
                f"fx_rate {figures['fx_rate']}, which is {expected} (source x rate / 10**18, rounded down)"
            )
    else:
        figures["source_revenue"], figures["fx_rate"] = figures["revenue"], FX_RATE_SCALE
    tape = _tape(values.get("tape"), where)
    if "tape" in raw:  # one canonical form, from a JSON list, a CSV cell or a tape companion alike
        raw["tape"] = json.dumps([{"lease": r.lease, "servers": r.servers, "billed": r.billed, "collected": r.collected,
                                   "days_past_due": r.days_past_due} for r in tape], sort_keys=True,
                                 separators=(",", ":"))
    if tape:
        billed, servers = sum(r.billed for r in tape), sum(r.servers for r in tape)
        if billed != figures["source_revenue"]:
            raise InputError(f"{where}: tape: the rows bill {billed}, the source revenue is "
                             f"{figures['source_revenue']}: a report's revenue is its tape's billed total")
        if servers != figures["active_servers"]:
            raise InputError(f"{where}: tape: the rows hold {servers} servers, active_servers is "
                             f"{figures['active_servers']}")
    return BillingRow(raw=raw, where=where, tape=tape, **figures)


_TAPE_FIELDS = (("lease", UINT32_MAX), ("servers", UINT32_MAX), ("billed", UINT128_MAX),
                ("collected", UINT128_MAX), ("days_past_due", UINT32_MAX))


def _tape(value: Any, where: str) -> tuple[LeaseRow, ...]:
    """The tape of a row: a list of row objects, or that list as JSON text (a CSV cell); none when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: tape: not a JSON list of rows ({exc})") from None
    if not isinstance(value, list):
        raise InputError(f"{where}: tape: not a list of rows")
    rows = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InputError(f"{where}: tape[{i}]: not an object")
        numbers = []
        for name, top in _TAPE_FIELDS:
            if name not in item and name == "days_past_due":
                numbers.append(0)
                continue
            if name not in item:
                raise InputError(f"{where}: tape[{i}]: {name}: missing")
            numbers.append(_integer(item[name], top, f"{where}: tape[{i}]: {name}"))
        if numbers[0] != i + 1:
            raise InputError(f"{where}: tape[{i}]: lease: {numbers[0]}, must be {i + 1} (one row per lease, in "
                             "lease order)")
        rows.append(LeaseRow(*numbers))
    return tuple(rows)


def _integer(value: Any, top: int, where: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{where}: not a number ({value!r})")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    elif isinstance(value, float) or (isinstance(value, str) and _is_decimal(value)):
        raise InputError(f"{where}: {value!r} is not an integer (amounts are in the token's smallest unit)")
    else:
        raise InputError(f"{where}: not a number ({value!r})")
    if number < 0:
        raise InputError(f"{where}: negative ({number})")
    if number > top:
        raise InputError(f"{where}: {number} is above the maximum {top}")
    return number


def _is_decimal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class BillingExport:
    """The rows of one export, keyed by period; contiguous (no missing month) and one row per period."""

    def __init__(self, rows: Iterable[BillingRow], name: str) -> None:
        self.name = name
        self.rows: dict[int, BillingRow] = {}
        for row in rows:
            if row.period in self.rows:
                first = self.rows[row.period].where
                raise InputError(f"{row.where}: period: duplicate row for period {row.period} (first at {first})")
            self.rows[row.period] = row
        if not self.rows:
            raise InputError(f"{name}: no rows")
        ordered = sorted(self.rows)
        for before, after in itertools.pairwise(ordered):
            if after != before + 1:
                raise InputError(
                    f"{self.rows[after].where}: period: missing month: period {before + 1} is absent "
                    f"(rows jump from {before} to {after})"
                )

    @property
    def periods(self) -> list[int]:
        return sorted(self.rows)

    def check_ended(self, last_ended: int) -> None:
        """A row for a period that has not ended yet is a wrong period."""
        for period in self.periods:
            if period > last_ended:
                raise InputError(
                    f"{self.rows[period].where}: period: wrong period {period}: only periods up to {last_ended} "
                    "have ended"
                )

    def row(self, period: int) -> BillingRow:
        try:
            return self.rows[period]
        except KeyError:
            span = f"{self.periods[0]}..{self.periods[-1]}"
            raise InputError(f"{self.name}: wrong period: no row for period {period} (the file has {span})") from None

    def reports(self, periods: Sequence[int]) -> list[Report]:
        return [self.row(p).to_report() for p in periods]


TAPE_COLUMNS = ("period", "lease", "servers", "billed", "collected", "days_past_due")
"""The header of a tape companion CSV (see the module docstring)."""


def read_tapes(path: Path) -> dict[int, list[dict[str, str]]]:
    """The rows of a tape companion CSV by period, each a row object as an export's ``tape`` holds it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--tape {path}: cannot read it ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [name for name in TAPE_COLUMNS if name not in header and name != "days_past_due"]
    if missing:
        raise InputError(f"--tape {path}: line 1: header lacks column(s) {', '.join(missing)} (the columns are "
                         f"{','.join(TAPE_COLUMNS)})")
    out: dict[int, list[dict[str, str]]] = {}
    for values in reader:
        where = f"--tape {path}: line {reader.line_num}"
        if None in values:
            raise InputError(f"{where}: more fields than the header has")
        row = {k.strip(): (v or "").strip() for k, v in values.items()}
        period = _integer(row.get("period", ""), UINT64_MAX, f"{where}: period")
        item = {name: row[name] for name in TAPE_COLUMNS[1:] if row.get(name)}
        out.setdefault(period, []).append(item)
    return out


def _with_tapes(values: dict[str, Any], tapes: dict[int, list[dict[str, str]]] | None, where: str,
                used: set[int]) -> dict[str, Any]:
    """``values`` with the companion's tape of its period (see the module docstring)."""
    if not tapes:
        return values
    raw = values.get("period")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return values  # make_row names the missing period
    period = _integer(raw, UINT64_MAX, f"{where}: period")
    if period not in tapes:
        return values
    given = values.get("tape")
    if given not in (None, "", []):
        raise InputError(f"{where}: tape: given both in the export and in the --tape file for period {period}")
    used.add(period)
    return {**values, "tape": tapes[period]}


def read_billing(path: Path, tape: Path | None = None) -> BillingExport:
    """Read a ``.csv`` or ``.json`` billing export, with ``tape`` its tape companion; raises ``InputError`` naming
    the row and field."""
    path = Path(path)
    tapes = read_tapes(tape) if tape is not None else None
    used: set[int] = set()
    export = _read_billing(path, tapes, used)
    if tapes and set(tapes) - used:
        extra = sorted(set(tapes) - used)
        raise InputError(f"--tape {tape}: period {extra[0]}: the export {path} has no row for it")
    return export


def _read_billing(path: Path, tapes: dict[int, list[dict[str, str]]] | None, used: set[int]) -> BillingExport:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return BillingExport(_csv_rows(text, path, tapes, used), str(path))
    if suffix == ".json":
        return BillingExport(_json_rows(text, path, tapes, used), str(path))
    raise InputError(f"{path}: unknown format {suffix!r}: give a .csv or .json billing export")


def _csv_rows(text: str, path: Path, tapes: dict[int, list[dict[str, str]]] | None = None,
              used: set[int] | None = None) -> list[BillingRow]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(f"{path}: line 1: header lacks column(s) {', '.join(missing)}")
    conversion = [name for name in CONVERSION if name in header]
    if len(conversion) == 1:
        (alone,) = conversion
        (other,) = set(CONVERSION) - {alone}
        raise InputError(f"{path}: line 1: header has {alone} but lacks column {other} (give both or neither)")
    rows = []
    for values in reader:
        where = f"{path}: line {reader.line_num}"
        if None in values:
            raise InputError(f"{where}: more fields than the header has")
        cleaned = {k.strip(): v for k, v in values.items()}
        rows.append(make_row(_with_tapes(cleaned, tapes, where, used if used is not None else set()), where))
    return rows


def _json_rows(text: str, path: Path, tapes: dict[int, list[dict[str, str]]] | None = None,
               used: set[int] | None = None) -> list[BillingRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list):
        raise InputError(f'{path}: expected a list of rows or {{"rows": [...]}}')
    rows = []
    for i, values in enumerate(data):
        where = f"{path}: rows[{i}]"
        if not isinstance(values, dict):
            raise InputError(f"{where}: not an object")
        rows.append(make_row(_with_tapes(values, tapes, where, used if used is not None else set()), where))
    return rows


def write_csv(rows: Sequence[BillingRow], path: Path) -> Path:
    """Write rows as a CSV export (required columns first, the conversion when the rows give it, then the raw ones,
    sorted)."""
    conversion = [name for name in CONVERSION if any(name in row.raw for row in rows)]
    extra = sorted({k for row in rows for k in row.raw} - set(REQUIRED) - set(conversion))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*REQUIRED, *conversion, *extra])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row.raw})
    return path


def write_json(rows: Sequence[BillingRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": [row.raw for row in rows]}, indent=1), encoding="utf-8")
    return path
