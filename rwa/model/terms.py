"""The pool's deployed terms, derived once: from the deal file and the calculator's integer schedule and fee.

This is the only place that turns a deal into :class:`rwa.model.waterfall.PoolTerms`. The issuer calls it with the
sizing's schedule and fee (and records both in the manifest as :class:`RecordedTerms`); the
auditor calls it with the recorded ones. Every input is an integer or an integer field of the deal, and the rule
is versioned (``TERMS_VERSION``), so the expected terms of a deployment never change when the calculator's
floating-point internals do: an old deployment's audit verdict is stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

from pydantic import BaseModel

from rwa.errors import InputError
from rwa.model.deal import Deal
from rwa.model.offering_book import Cost, OfferingConfig
from rwa.model.waterfall import PoolTerms

TERMS_VERSION = 5
"""The version of the rule below; a manifest records it with the terms (2: the refund schedule is fixed on-chain;
3: the reserve is the next ``reserve_periods`` periods' scheduled debt service, its excess released, and the
offering funds that target at its close; 4: periods are calendar months from the first start, their ends part of
the terms, where they were 30 days; 5: the fleet register's orders, leases and long-stop
(:func:`rwa.model.fleet.register_terms`), the offering's escrow and the lessee past-due trigger)."""


_CHANGES = {
    4: "version 4 counts calendar-month periods where earlier versions counted 30 days",
    5: "version 5 deploys a fleet register, an escrow of the raise and a lease tape with every report",
}
"""Why a manifest of an older rule cannot be audited by this version."""


class RecordedTerms(BaseModel):
    """What the calculator decided at issuance, in integers, as the manifest keeps it: the auditor re-derives the
    pool's terms from these and the deal file by :func:`recorded_terms`, never by re-running the float sizing."""

    version: int = TERMS_VERSION
    principal_schedule: list[int]
    servicing_fee_per_period: int


@dataclass(frozen=True)
class DefaultRules:
    """The pool's objective events of default and the servicer's window (``ILeasePool.DefaultRules``)."""

    arrears_periods: int
    report_overdue_seconds: int
    shortfall_bps: int
    shortfall_window: int
    distribution_grace: int
    past_due_days: int = 0

    def as_tuple(self) -> tuple[int, ...]:
        return astuple(self)


def default_rules(deal: Deal) -> DefaultRules:
    """The rules the pool is deployed with, from the deal's ``[events_of_default]``."""
    e = deal.events_of_default
    return DefaultRules(e.interest_arrears_periods, e.report_overdue_seconds, e.shortfall_bps, e.shortfall_window,
                        e.distribution_grace_seconds, e.lessee_past_due_days)


def refund_schedule(deal: Deal) -> list[int]:
    """Tax refunds paid into the pool per period: ``refunds_total`` in equal parts over ``refund_periods``, the
    remainder in the last; all 0 when the refunds are not paid to the pool. The pool is deployed with it as the
    most of each period's refunds its covenant counts; the calculator sizes on the same figures."""
    out = [0] * deal.periods.count
    tax = deal.tax
    if not tax.refunds_to_pool or tax.refunds_total == 0:
        return out
    part, rest = divmod(tax.refunds_total, len(tax.refund_periods))
    for p in tax.refund_periods:
        out[p - 1] += part
    out[tax.refund_periods[-1] - 1] += rest
    return out


def period_ends(deal: Deal) -> tuple[int, ...]:
    """The ends of the deal's periods 1..N and of the maturity settlement N+1, in unix seconds: its calendar months
    (``Deal.periods``), what the pool and the oracle are deployed to count."""
    return tuple(int(deal.periods.end_of(p).timestamp()) for p in range(1, deal.periods.count + 2))


def pool_terms(deal: Deal, principal_schedule: Sequence[int], servicing_fee_per_period: int) -> PoolTerms:
    """The terms ``LeasePool`` is deployed with: the deal's calendar and financing, its refund schedule, and the
    given principal schedule and fee."""
    return PoolTerms(
        first_period_start=int(deal.periods.first_start.timestamp()),
        period_ends=period_ends(deal),
        period_count=deal.periods.count,
        senior_coupon_bps=deal.financing.senior_coupon_bps,
        servicing_fee_per_period=servicing_fee_per_period,
        reserve_periods=deal.financing.reserve_periods,
        cash_trap_dscr_bps=deal.financing.cash_trap_dscr_bps,
        principal_schedule=tuple(principal_schedule),
        refund_schedule=tuple(refund_schedule(deal)),
    )


def record(terms: PoolTerms) -> RecordedTerms:
    """What the manifest keeps of ``terms`` so that :func:`recorded_terms` can rebuild them."""
    return RecordedTerms(
        version=TERMS_VERSION,
        principal_schedule=list(terms.principal_schedule),
        servicing_fee_per_period=terms.servicing_fee_per_period,
    )


def recorded_terms(deal: Deal, recorded: RecordedTerms | None) -> PoolTerms:
    """The terms a deployment was issued with, rebuilt from its manifest's record and the deal file."""
    if recorded is None:
        raise InputError("the deployment manifest records no pool terms: it predates this version; re-issue the deal")
    if recorded.version != TERMS_VERSION:
        changed = [why for version, why in _CHANGES.items() if recorded.version < version <= TERMS_VERSION]
        raise InputError(
            f"the manifest's pool terms follow rule version {recorded.version}; this version knows {TERMS_VERSION}"
            + (f" ({'; '.join(changed)}): audit it with the release that issued it" if changed else "")
        )
    return pool_terms(deal, recorded.principal_schedule, recorded.servicing_fee_per_period)


def offering_config(deal: Deal, terms: PoolTerms, issuer: str, escrow: str = ""
                    ) -> tuple[OfferingConfig, list[Cost]]:
    """The offering's terms as ``DealOffering`` is deployed with them: the deal's ``[offering]``, the reserve at
    close (:func:`reserve_at_close`), the treasury (the deal's, else ``issuer``) and the fleet register ``escrow``
    that holds the capex share of the raise. The auditor derives the same."""
    offer = deal.offering
    if offer is None:
        raise InputError("the deal has no [offering]")
    config = OfferingConfig(
        open_time=int(offer.opens.timestamp()),
        close_time=int(offer.closes.timestamp()),
        close_grace=offer.close_grace_seconds,
        min_ticket=offer.min_ticket,
        max_ticket=offer.max_ticket,
        reserve_at_close=reserve_at_close(deal, terms),
        treasury=offer.treasury or issuer,
        take_up_senior=offer.take_up_senior,
        take_up_junior=offer.take_up_junior,
        escrow=escrow,
    )
    return config, [Cost(c.recipient, c.amount) for c in offer.costs]


def treasury_of(deal: Deal, issuer: str) -> str:
    """The issuer's treasury: the offering's, else the issuer."""
    return (deal.offering.treasury if deal.offering is not None else None) or issuer


def reserve_at_close(deal: Deal, terms: PoolTerms) -> int:
    """The reserve funded into the pool at close: the deal's ``financing.reserve_at_close``, else the pool's reserve
    target at close (the scheduled senior debt service of the first ``reserve_periods`` periods,
    :func:`rwa.model.waterfall.reserve_target`). The offering's close routes it from the raise; a private placement's
    issuance funds it from the deployer's stablecoin."""
    if deal.financing.reserve_at_close is not None:
        return deal.financing.reserve_at_close
    from rwa.model.waterfall import reserve_target

    return reserve_target(terms, 0, terms.face)
