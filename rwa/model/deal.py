"""The deal: the schema of the one TOML document that the calculator sizes from and the issuer deploys from
(reading the file is :mod:`rwa.model.deal_file`, the private placement's allocation :mod:`rwa.model.placement`).

Units. Every money amount in the file is written in *whole stablecoin units* (``rent_per_server_month = 13333.33``
means 13,333.33 USDC); the file may use at most ``decimals`` fractional digits. On load each amount becomes an
``int`` in the token's *smallest unit* (``13_333_330_000`` for a 6-decimal token), and that integer is what the
rest of the code sees. ``decimals`` must be the stablecoin's own: issuance refuses a deal whose decimals differ
from those of the stablecoin it pays in (the tranche tokens take theirs from it). A deal whose figures were
converted from RMB says so with ``source_currency = "RMB"`` and states the conversion rate in ``rmb_per_unit``; the
amounts in the file are already converted.

Every validation failure becomes a :class:`~rwa.errors.DealConfigError` whose message is one line naming the
dotted field path, e.g. ``deal.financing.senior_coupon_bps: must be >= 0``.

Validating ``Deal`` directly scales money by ``10**decimals`` (the context says which decimals; 6 by default):
to rebuild a deal from ``model_dump()`` use :func:`deal_from_dump`, which takes the integers as they are.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rwa.errors import DealConfigError
from rwa.model.calendar import months_after
from rwa.model.units import BPS, TRANCHES, ZERO_ADDRESS, Tranche

DEFAULT_DECIMALS = 6


def _to_smallest_units(value: Any, info: ValidationInfo) -> int:
    """Whole stablecoin units in the file -> integer smallest units; refuses anything that would need rounding."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number of whole stablecoin units")
    context = info.context or {}
    if context.get("smallest_units"):  # re-validating a dump of a loaded deal: already integers
        if not isinstance(value, int):
            raise ValueError("must be an integer number of smallest units")
        return value
    decimals = int(context.get("decimals", DEFAULT_DECIMALS))
    try:
        scaled = Decimal(str(value)) * (Decimal(10) ** decimals)
    except InvalidOperation as exc:  # pragma: no cover - Decimal(str(number)) does not fail for finite numbers
        raise ValueError("must be a finite number") from exc
    if not scaled.is_finite():
        raise ValueError("must be a finite number")
    if scaled != scaled.to_integral_value():
        raise ValueError(f"has more than {decimals} decimal places")
    return int(scaled)


Money = Annotated[int, BeforeValidator(_to_smallest_units)]
"""An amount written in whole stablecoin units, held as integer smallest units."""

Bps = Annotated[int, Field(ge=0, le=BPS)]



def checked_address(value: str) -> str:
    """An address a deal names for a party (an investor, the trustee, a treasury, a cost's recipient, the
    stablecoin): EIP-55 checksummed, and never the zero address, which the contracts refuse (or burn to) only after
    the deployment has begun."""
    if not is_checksum_address(value):
        raise ValueError("must be a checksummed 0x address (EIP-55)")
    if value == ZERO_ADDRESS:
        raise ValueError("must not be the zero address")
    return value


_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def is_checksum_address(value: object) -> bool:
    """``value`` is a 0x address in its EIP-55 form: each letter upper case where the keccak of the lower-case hex
    has a nibble of 8 or more there. The same test as eth-utils' ``is_checksum_address``, through the same keccak
    (eth-hash), without importing eth-utils (a fifth of a second: a command reads its deal before its first chain
    request)."""
    if not isinstance(value, str) or not _HEX_ADDRESS.fullmatch(value):
        return False
    from eth_hash.auto import keccak

    digits = value[2:]
    nibbles = keccak(digits.lower().encode()).hex()
    return all(c.isdigit() or c.isupper() == (int(n, 16) >= 8) for c, n in zip(digits, nibbles, strict=False))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Periods(_Model):
    """The payment calendar: ``count`` calendar-month periods from ``first_start`` (UTC), by the rule of
    :mod:`rwa.model.calendar`: period p ends p calendar months after ``first_start``, on its day of the month and at its
    time of day, or on the month's last day when the month is shorter. A first start on the 1st at 00:00 UTC makes
    every period one calendar month; any other first start is accepted and clamped that way (a 31st ends its
    periods on the 30th of a 30-day month and on the last day of February). The pool and the oracle are deployed with
    the same calendar (``PeriodClockLib``), so their period ends are these."""

    count: int = Field(gt=0, le=600)
    first_start: datetime

    @model_validator(mode="before")
    @classmethod
    def _no_fixed_length(cls, data: Any) -> Any:
        if isinstance(data, dict) and "period_seconds" in data:
            raise _FieldError("period_seconds", "no longer a setting: periods are calendar months from first_start "
                              "(delete the line)")
        return data

    @field_validator("first_start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2025-07-01T00:00:00Z")
        if value.astimezone(UTC).year < 1970:
            raise ValueError("must be in 1970 or later (unix time, as the contracts count it)")
        return value.astimezone(UTC)

    def start_of(self, period: int) -> datetime:
        """Start of 1-based ``period``; ``start_of(count + 1)`` is the end of the deal, ``start_of(count + 2)`` the
        end of the maturity settlement's period N+1."""
        if period < 1:
            raise ValueError(f"periods start at 1, got {period}")
        return months_after(self.first_start, period - 1)

    def end_of(self, period: int) -> datetime:
        """End of 1-based ``period``, where the next one starts."""
        return self.start_of(period + 1)

    def seconds_of(self, period: int) -> int:
        """Length of ``period`` in seconds."""
        return int((self.end_of(period) - self.start_of(period)).total_seconds())

    @property
    def longest_seconds(self) -> int:
        """The longest of the deal's periods 1..N, in seconds (31 days once a 31-day month is among them)."""
        return max(self.seconds_of(p) for p in range(1, self.count + 1))


class Delivery(_Model):
    """Servers that a supplier puts into service at the start of ``period``: a batch of the supplier's order."""

    period: int = Field(ge=1)
    servers: int = Field(ge=0)
    supplier: str = Field(min_length=1)
    site: str | None = Field(default=None, min_length=1, description="where the batch stands; default the cluster's")


class SupplierOrder(_Model):
    """A supplier's order of servers: what the escrow pays it for each server the reporters attest as accepted.
    Without ``[[cluster.orders]]`` each supplier of the delivery schedule has one order of the servers it delivers,
    at ``capex_per_server``, paid to the issuer's treasury against the supplier's invoice."""

    supplier: str = Field(min_length=1)
    servers: int = Field(gt=0)
    unit_price: Money | None = Field(default=None, gt=0, description="per server; default cluster.capex_per_server")
    recipient: str | None = Field(default=None, description="who the escrow pays: the supplier, or by default the "
                                  "issuer's treasury against the supplier's invoice")

    @field_validator("recipient")
    @classmethod
    def _checksummed(cls, value: str | None) -> str | None:
        return None if value is None else checked_address(value)


class Cluster(_Model):
    """The hardware: how many servers, what they cost, when they arrive."""

    servers: int = Field(gt=0)
    gpus_per_server: int = Field(gt=0)
    gpu_model: str = "H800"
    capex_per_server: Money = Field(gt=0)
    site: str = Field(default="main site", min_length=1, description="where the servers stand")
    deliveries: list[Delivery] = Field(default_factory=list)
    orders: list[SupplierOrder] = Field(default_factory=list)

    @model_validator(mode="after")
    def _deliveries_fit(self) -> Cluster:
        delivered = sum(d.servers for d in self.deliveries)
        if self.deliveries and delivered != self.servers:
            raise ValueError(f"deliveries: servers sum to {delivered}, cluster.servers is {self.servers}")
        if self.orders:
            names = [o.supplier for o in self.orders]
            if len(set(names)) != len(names):
                raise _FieldError("orders", "one order per supplier: a supplier is named twice")
            ordered = sum(o.servers for o in self.orders)
            if ordered != self.servers:
                raise _FieldError("orders", f"servers sum to {ordered}, cluster.servers is {self.servers}")
            for i, d in enumerate(self.deliveries):
                if d.supplier not in names:
                    raise _FieldError(f"deliveries[{i}].supplier", f"{d.supplier!r} has no order in cluster.orders")
            for o in self.orders:
                scheduled = sum(d.servers for d in self.deliveries if d.supplier == o.supplier)
                if self.deliveries and scheduled != o.servers:
                    raise _FieldError("orders", f"{o.supplier}: the schedule delivers {scheduled} of the "
                                      f"{o.servers} servers ordered")
        return self

    def supplier_orders(self) -> list[SupplierOrder]:
        """The orders: the file's, or one per supplier of the schedule (one order of every server without one)."""
        if self.orders:
            return list(self.orders)
        totals: dict[str, int] = {}
        for d in self.deliveries:
            totals[d.supplier] = totals.get(d.supplier, 0) + d.servers
        if not totals:
            totals = {"supplier": self.servers}
        return [SupplierOrder(supplier=name, servers=n) for name, n in totals.items() if n]

    def unit_price(self, order: SupplierOrder) -> int:
        """What ``order`` pays per server (smallest units)."""
        return self.capex_per_server if order.unit_price is None else order.unit_price

    def delivered_by(self, period: int) -> int:
        """Servers in service during ``period``; with no schedule every server is there from period 1."""
        if not self.deliveries:
            return self.servers
        return sum(d.servers for d in self.deliveries if d.period <= period)


class Lease(_Model):
    """One lease contract: a lessee renting ``servers`` servers for ``term_periods`` periods."""

    lessee: str = Field(min_length=1)
    servers: int = Field(gt=0)
    rent_per_server_month: Money = Field(gt=0)
    start_period: int = Field(default=1, ge=1)
    term_periods: int = Field(gt=0)

    @property
    def end_period(self) -> int:
        """Last period (inclusive) the lease pays rent."""
        return self.start_period + self.term_periods - 1


class Utilization(_Model):
    """Billed fraction of contracted server-months: the base case and the downside (P90) case."""

    base: float = Field(gt=0, le=1)
    p90: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _p90_below_base(self) -> Utilization:
        if self.p90 > self.base:
            raise ValueError(f"p90: must be <= base ({self.base})")
        return self


class OperatingCosts(_Model):
    """Costs per delivered server-month, plus the servicer's fee as a share of expected revenue."""

    power_per_server_month: Money = Field(ge=0)
    om_per_server_month: Money = Field(ge=0)
    colocation_per_server_month: Money = Field(ge=0)
    servicer_fee_bps: Bps = 0


class Tax(_Model):
    """Tax refunds (paid into the pool in equal parts in ``refund_periods``) and the issuer's income tax rate."""

    refunds_total: Money = Field(default=0, ge=0)
    refund_periods: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)
    refunds_to_pool: bool = True
    income_tax_rate_bps: Bps = 0

    @model_validator(mode="after")
    def _periods_when_refunds(self) -> Tax:
        if self.refunds_total > 0 and not self.refund_periods:
            raise ValueError("refund_periods: required when refunds_total > 0")
        return self


class Residual(_Model):
    """Hardware value: capex less ``annual_decline_bps`` of capex a year (straight line, monthly) down to a floor."""

    annual_decline_bps: Bps
    floor_bps: Bps


class Financing(_Model):
    """Senior terms and covenants. Ratios written as floats are multiples (1.30); ``*_bps`` are basis points."""

    senior_coupon_bps: int = Field(ge=0, le=BPS)
    tenor_periods: int = Field(gt=0)
    tail_periods: int = Field(default=0, ge=0)
    dscr_target: float = Field(ge=1.0)
    p90_dscr_target: float = Field(ge=1.0)
    min_junior_share_bps: int = Field(ge=0, lt=BPS)
    ltv_cap_bps: int = Field(gt=0, le=BPS)
    reserve_periods: int = Field(default=0, ge=0)
    reserve_at_close: Money | None = Field(
        default=None, ge=0,
        description="the reserve funded into the pool at close (by the offering, or the deployer in a private "
        "placement); default the first reserve_periods periods' scheduled debt service",
    )
    cash_trap_dscr_bps: int = Field(ge=BPS)
    junior_discount_rate_bps: Bps = 1500
    p90_rent_haircut_bps: Bps = 0
    p90_refund_haircut_bps: Bps = Field(
        default=BPS, description="tax refunds cut in the downside case (all of them by default: debt service is not "
        "sculpted onto refunds, which the covenant does not count either)"
    )

    @property
    def cash_trap_dscr(self) -> float:
        """The covenant as a multiple."""
        return self.cash_trap_dscr_bps / BPS


class Risk(_Model):
    """Monte Carlo and stress assumptions; annual figures, applied monthly."""

    seed: int = Field(default=20250701, ge=0, description="numpy takes a seed of 0 or more")
    paths: int = Field(default=20_000, gt=0)
    rent_drift_annual: float = -0.05
    rent_vol_annual: float = Field(default=0.15, ge=0)
    utilization_vol: float = Field(default=0.05, ge=0)
    utilization_mean_reversion: float = Field(default=0.3, gt=0, le=1)
    rent_utilization_correlation: float = Field(default=0.5, ge=-1, le=1)
    lessee_pd_annual: float = Field(default=0.03, ge=0, lt=1)
    default_factor_loading: float = Field(default=0.5, ge=0)
    residual_vol: float = Field(default=0.3, ge=0)
    default_period: int | None = Field(
        default=None, ge=1, description="the stress grid's lessee default period; unset: the worst for the deal"
    )
    relet_vacancy_periods: int = Field(
        default=3, ge=0, description="periods a defaulted lessee's servers stand empty before they are re-let"
    )
    relet_discount_bps: int = Field(
        default=2500, ge=0, le=10_000, description="re-let rent below the market rent of the re-letting month"
    )


class OracleTerms(_Model):
    """How the revenue oracle is deployed for the deal."""

    threshold: int = Field(default=3, ge=1, description="signatures needed on a report (M of N)")
    reporters: int = Field(default=5, ge=1, description="authorised reporters (N)")
    grace_seconds: int = Field(default=864_000, ge=0, description="after a period's end before a report is overdue")
    max_revenue_multiple_bps: int = Field(
        default=20_000, gt=0, description="reports above this multiple of contracted rent are rejected"
    )
    reporter_names: list[str] = Field(
        default_factory=list, description="who each reporter is (parties other than the issuer), in key order"
    )

    @model_validator(mode="after")
    def _quorum(self) -> OracleTerms:
        if self.threshold > self.reporters:
            raise ValueError(f"threshold {self.threshold} exceeds the {self.reporters} reporters")
        if self.reporter_names and len(self.reporter_names) != self.reporters:
            raise _FieldError("reporter_names", f"names {len(self.reporter_names)} reporters, the deal has "
                              f"{self.reporters}")
        return self


class EventsOfDefault(_Model):
    """Objective events of default: when one holds, anyone may put the pool in default; the trustee may also
    declare one, and cure or waive it under the pool's rules. Each at 0 is never triggered."""

    interest_arrears_periods: int = Field(default=3, ge=0, description="consecutive periods with interest unpaid")
    report_overdue_seconds: int = Field(
        default=1_296_000, ge=0, description="after a period's end with no report (beyond the oracle's grace)"
    )
    shortfall_bps: int = Field(default=2_000, ge=0, le=BPS, description="rent short of reported revenue, a share")
    shortfall_window: int = Field(default=3, ge=0, description="trailing distributed periods of the shortfall test")
    distribution_grace_seconds: int = Field(
        default=432_000, ge=0, description="after a period's end only the servicer distributes; then anyone may"
    )
    lessee_past_due_days: int = Field(
        default=90, ge=0, le=2**32 - 1,
        description="a lease in the latest report's tape past due more than this many days (0: never)",
    )


class Proceeds(_Model):
    """The use of the raise: its capex share waits in the fleet register's escrow and is released against each
    attested delivery, with the issuer's equity pro rata; at the long-stop the rest prepays the senior."""

    long_stop_period: int | None = Field(
        default=None, ge=1,
        description="at the end of this period nothing more is released: the raise not released prepays the "
                    "senior; default three periods after the last scheduled delivery",
    )


class Governance(_Model):
    """Who acts for the holders and how long every power over their money waits before it can run."""

    trustee: str | None = Field(default=None, description="the trustee's address (a local key on a dev chain)")
    delay_seconds: int | None = Field(
        default=None, gt=0, description="timelock delay of privileged calls; default the longest period plus one day"
    )

    @field_validator("trustee")
    @classmethod
    def _checksummed(cls, value: str | None) -> str | None:
        return None if value is None else checked_address(value)


class UpfrontCost(_Model):
    """A cost of the raise the offering pays at its close (arranger, legal, rating), to its recipient."""

    label: str = Field(min_length=1)
    recipient: str
    amount: Money = Field(gt=0)

    @field_validator("recipient")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        return checked_address(value)


CLOSE_GRACE_SECONDS = 14 * 86_400
"""Default time past an offering's window for a successful close, before anyone may abandon it."""

MAX_UPFRONT_COSTS = 8
"""The most upfront costs an offering pays (``DealOffering``'s bound)."""


class Offering(_Model):
    """The primary offering of both tranches at par: the window, the tickets, what the close pays, and the rule
    for an under-subscribed tranche. Without it the investors' ``share_bps`` are minted to them (a private placement).
    """

    opens: datetime
    closes: datetime
    close_grace_seconds: int = Field(
        default=CLOSE_GRACE_SECONDS, ge=86_400, le=365 * 86_400,
        description="after closes, how long a close may keep failing before anyone may abandon the offering and "
                    "every request is refunded in full",
    )
    min_ticket: Money = Field(default=0, ge=0)
    max_ticket: Money = Field(gt=0)
    treasury: str | None = Field(default=None, description="receives the proceeds; default the issuer")
    under_subscribed: Literal["cancel", "take-up"] = "cancel"
    take_up_senior: Money = Field(default=0, ge=0)
    take_up_junior: Money = Field(default=0, ge=0)
    costs: list[UpfrontCost] = Field(default_factory=list, max_length=MAX_UPFRONT_COSTS)

    @field_validator("opens", "closes")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2025-06-01T00:00:00Z")
        return value.astimezone(UTC)

    @field_validator("treasury")
    @classmethod
    def _checksummed(cls, value: str | None) -> str | None:
        return None if value is None else checked_address(value)

    @model_validator(mode="after")
    def _consistent(self) -> Offering:
        if self.closes <= self.opens:
            raise _FieldError("closes", "must be after opens")
        if self.min_ticket > self.max_ticket:
            raise _FieldError("min_ticket", "must be <= max_ticket")
        if self.under_subscribed == "cancel" and (self.take_up_senior or self.take_up_junior):
            raise _FieldError("under_subscribed", 'is "cancel": take_up_senior and take_up_junior must be 0')
        if (self.take_up_senior or self.take_up_junior) and self.treasury is None:
            raise _FieldError("treasury", "required with a take-up: it receives the taken-up tokens")
        return self

    def take_up(self) -> tuple[int, int]:
        return (self.take_up_senior, self.take_up_junior)


class Investor(_Model):
    """One investor: its KYC record, and in a private placement its allocation of a tranche, either in basis points
    of the tranche (``share_bps``) or as an amount (``amount``, a weight: the tranche is shared pro rata to the
    amounts, each investor gets exactly its amount when they add up to the sized tranche). With an ``[offering]``
    the investor subscribes instead and both may be left out."""

    name: str = Field(min_length=1)
    address: str
    tranche: Tranche
    share_bps: int | None = Field(default=None, gt=0, le=BPS)
    amount: Money | None = Field(default=None, gt=0)
    kyc_expiry: date
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")

    @field_validator("address")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        return checked_address(value)


class Deal(_Model):
    """A whole deal. Money fields are integer smallest units of ``currency``."""

    name: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Za-z0-9.]{2,12}$")
    decimals: int = Field(default=DEFAULT_DECIMALS, ge=0, le=18)
    source_currency: str | None = None
    rmb_per_unit: float | None = Field(default=None, gt=0)
    stablecoin_address: str | None = None
    periods: Periods
    cluster: Cluster
    leases: list[Lease] = Field(min_length=1)
    utilization: Utilization
    operating_costs: OperatingCosts
    tax: Tax = Field(default_factory=Tax)
    residual: Residual
    financing: Financing
    risk: Risk = Field(default_factory=Risk)
    oracle: OracleTerms = Field(default_factory=OracleTerms)
    events_of_default: EventsOfDefault = Field(default_factory=EventsOfDefault)
    governance: Governance = Field(default_factory=Governance)
    offering: Offering | None = None
    proceeds: Proceeds = Field(default_factory=Proceeds)
    investors: list[Investor] = Field(min_length=1)

    @field_validator("stablecoin_address")
    @classmethod
    def _token_checksummed(cls, value: str | None) -> str | None:
        return None if value is None else checked_address(value)

    @model_validator(mode="after")
    def _consistent(self) -> Deal:
        if self.source_currency and self.source_currency.upper() in {"RMB", "CNY"} and self.rmb_per_unit is None:
            raise _FieldError("rmb_per_unit", "required when source_currency is RMB")
        for i, lease in enumerate(self.leases):
            if lease.end_period > self.periods.count:
                raise _FieldError(f"leases[{i}].term_periods", f"lease ends in period {lease.end_period}, "
                                  f"after the deal's {self.periods.count} periods")
        for i, d in enumerate(self.cluster.deliveries):
            if d.period > self.periods.count:
                raise _FieldError(f"cluster.deliveries[{i}].period", f"must be <= {self.periods.count}")
        if self.long_stop_period > self.periods.count:
            raise _FieldError("proceeds.long_stop_period", f"must be <= periods.count ({self.periods.count})")
        last_delivery = max((d.period for d in self.cluster.deliveries), default=1)
        if self.long_stop_period < last_delivery:
            raise _FieldError("proceeds.long_stop_period", f"must be at or after the last scheduled delivery "
                              f"(period {last_delivery})")
        for i, p in enumerate(self.tax.refund_periods):
            if p > self.periods.count:
                raise _FieldError(f"tax.refund_periods[{i}]", f"must be <= {self.periods.count}")
        if self.financing.tenor_periods > self.periods.count:
            raise _FieldError("financing.tenor_periods", f"must be <= periods.count ({self.periods.count})")
        delay = self.governance.delay_seconds
        longest = self.periods.longest_seconds
        if delay is not None and delay <= longest:
            raise _FieldError("governance.delay_seconds", f"must exceed the deal's longest period ({longest} s) "
                              "so that holders see a privileged call a whole distribution cycle before it runs")
        overdue = self.events_of_default.report_overdue_seconds
        if overdue and overdue <= self.oracle.grace_seconds:
            raise _FieldError("events_of_default.report_overdue_seconds",
                              f"must exceed the oracle's grace ({self.oracle.grace_seconds} s)")
        if self.financing.cash_trap_dscr_bps > round(self.financing.p90_dscr_target * BPS):
            raise _FieldError("financing.cash_trap_dscr_bps",
                              f"{self.financing.cash_trap_dscr_bps} bps is above the P90 DSCR target "
                              f"{self.financing.p90_dscr_target}: the deal's own downside case would trap cash every "
                              "period; set the covenant at or below the target")
        if self.risk.default_period is not None and self.risk.default_period > self.periods.count:
            raise _FieldError("risk.default_period", f"must be <= periods.count ({self.periods.count})")
        for tranche in TRANCHES:
            members = [inv for inv in self.investors if inv.tranche == tranche]
            by_amount = [inv.amount is not None for inv in members]
            if any(by_amount) and (not all(by_amount) or any(inv.share_bps is not None for inv in members)):
                raise _FieldError("investors", f"{tranche}: give every investor of a tranche either share_bps or an "
                                  "amount, not a mix")
            shares = [inv.share_bps or 0 for inv in members]
            if self.offering is None and not any(by_amount) and sum(shares) != BPS:
                raise _FieldError("investors", f"{tranche} shares sum to {sum(shares)} bps, must be exactly {BPS} "
                                  "(or give each investor an amount)")
        if self.offering is not None:
            o = self.offering
            if o.closes > self.periods.first_start:
                start = self.periods.first_start.isoformat()
                raise _FieldError("offering.closes", f"must be at or before periods.first_start ({start}): the "
                                  "offering funds the deal before it runs")
            if o.treasury is not None and (o.take_up_senior or o.take_up_junior) and not any(
                inv.address.lower() == o.treasury.lower() for inv in self.investors
            ):
                raise _FieldError("offering.treasury", "must be one of the investors (KYC'd) to take up tokens")
        seen: set[tuple[str, str]] = set()
        for inv in self.investors:
            key = (inv.tranche, inv.address.lower())
            if key in seen:
                raise _FieldError("investors", f"{inv.address} appears twice in the {inv.tranche} tranche")
            seen.add(key)
        return self

    @property
    def governance_delay(self) -> int:
        """The timelock's delay: the deal's, or the longest period plus one day."""
        return self.governance.delay_seconds or self.periods.longest_seconds + 86_400

    @property
    def long_stop_period(self) -> int:
        """The period at whose end the escrow stops releasing (``proceeds.long_stop_period``, or three periods after
        the last scheduled delivery, at most the last)."""
        if self.proceeds.long_stop_period is not None:
            return self.proceeds.long_stop_period
        last_delivery = max((d.period for d in self.cluster.deliveries), default=1)
        return max(1, min(last_delivery + 3, self.periods.count))

    @property
    def unit(self) -> int:
        """Smallest units per whole stablecoin unit."""
        return int(10**self.decimals)

    def investors_of(self, tranche: str) -> list[Investor]:
        """Investors of one tranche, in file order."""
        return [inv for inv in self.investors if inv.tranche == tranche]


class _FieldError(ValueError):
    """A cross-field check that names the field it is about, relative to the deal root."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_deal(data: dict[str, Any]) -> Deal:
    """Validate an already-parsed deal mapping (as from TOML, floats as Decimal or float)."""
    decimals = data.get("decimals", DEFAULT_DECIMALS)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 18:
        raise DealConfigError("deal.decimals: must be an integer from 0 to 18")
    try:
        return Deal.model_validate(data, context={"decimals": decimals})
    except ValidationError as exc:
        raise DealConfigError(_one_line(exc)) from None


def deal_from_dump(data: dict[str, Any]) -> Deal:
    """Rebuild a deal from ``Deal.model_dump()`` output, whose money is already in smallest units."""
    try:
        return Deal.model_validate(data, context={"smallest_units": True})
    except ValidationError as exc:
        raise DealConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    """The first validation error as ``deal.dotted.path: message``."""
    err = exc.errors(include_url=False)[0]
    path = "deal"
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        message = "required field is missing"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        message = f"must be {symbol} {ctx.get(key)}"
    elif kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
        named = _NAMED_FIELD.match(message)
        if named:  # a cross-field check that names the sub-field it is about
            path += f".{named.group(1)}"
            message = named.group(2)
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
    return f"{path}: {message}"


_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}
_NAMED_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$")
