"""PNG charts for `rwa size --plots DIR`: DSCR by month against the covenant, balance path, stress fan."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt

from rwa.errors import InputError
from rwa.leverage.cashflows import collateral_value
from rwa.leverage.report import Analysis
from rwa.model.units import BPS

FILES = ("dscr.png", "balance.png", "stress_fan.png")


def write_plots(a: Analysis, directory: Path) -> list[Path]:
    """Write the three charts into ``directory`` (created if missing) and return their paths."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--plots: cannot create {directory}: {exc.strerror or exc}") from exc
    deal, sizing = a.deal, a.sizing
    unit = deal.unit
    periods = [r.period for r in sizing.schedule]
    covenant = deal.financing.cash_trap_dscr
    out = [directory / name for name in FILES]

    fig, ax = plt.subplots(figsize=(9, 4.5))
    dscr = [r.dscr if math.isfinite(r.dscr) else float("nan") for r in sizing.schedule]
    ax.plot(periods, dscr, label="base-case DSCR", color="tab:blue")
    p90 = [c / s if s else float("nan") for c, s in zip(sizing.cfads_p90, sizing.debt_service, strict=True)]
    ax.plot(periods, p90, label="P90-case DSCR", color="tab:purple", linewidth=1)
    ax.axhline(deal.financing.dscr_target, color="tab:green", linestyle="--", label="target")
    ax.axhline(covenant, color="tab:red", linestyle=":", label="cash-trap covenant")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("period (month)")
    ax.set_ylabel("DSCR (x)")
    ax.set_title(f"{deal.name}: DSCR by month")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out[0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot([0, *periods], [sizing.senior_size / unit, *(r.balance / unit for r in sizing.schedule)],
            label="senior balance", color="tab:blue")
    values = collateral_value(deal)
    cap = deal.financing.ltv_cap_bps / BPS
    ax.plot(range(len(values)), [v * cap / unit for v in values], label="LTV cap x hardware value",
            color="tab:orange", linestyle="--")
    ax.set_xlabel("period (month)")
    ax.set_ylabel(deal.currency)
    ax.set_title("Senior balance against depreciating collateral")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out[1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    fan = a.monte_carlo.dscr_fan
    months = list(range(1, len(fan.get("p50", [])) + 1))
    if months:
        ax.fill_between(months, fan["p5"], fan["p95"], alpha=0.2, color="tab:blue", label="Monte Carlo 5-95%")
        ax.fill_between(months, fan["p25"], fan["p75"], alpha=0.35, color="tab:blue", label="25-75%")
        ax.plot(months, fan["p50"], color="tab:blue", label="median")
    for row in a.stress:
        if row.key in {"rent_minus_20", "utilization_50", "largest_lessee_default", "delivery_12_of_330"}:
            ax.plot(range(1, len(row.dscr_path) + 1), row.dscr_path, linewidth=1, label=row.label)
    ax.axhline(covenant, color="tab:red", linestyle=":", label="covenant")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    finite = [d for d in dscr if math.isfinite(d)]
    ax.set_ylim(0, max(3.0, 1.3 * max(finite, default=0.0)))  # past the tenor only arrears are due: ratios soar
    ax.set_xlabel("period (month)")
    ax.set_ylabel("DSCR (x)")
    ax.set_title("Stress fan: DSCR percentiles and named stresses")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out[2], dpi=110)
    plt.close(fig)
    return out
