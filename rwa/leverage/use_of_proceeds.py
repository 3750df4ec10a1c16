"""The use of proceeds: where each unit of the raise goes, by the rules the deal's contracts apply on chain.

The offering's close (``DealOffering.close``) pays the reserve (DSRA) into the pool and the costs to their
recipients, and puts the capex share of what is left, ``min(proceeds, capex)``, in the fleet register's escrow; any
surplus beyond the fleet's price goes to the issuer's treasury. The escrow releases each delivery's price to its
order's recipient as the reporters attest it, from the raise and from the issuer's equity pro rata
(:func:`rwa.model.fleet.release_split`, cumulative over the releases), and at the long-stop (the end of the deal's
``long_stop_period``) whatever the raise has not released prepays the senior (:func:`rwa.model.waterfall.prepay`:
every later scheduled principal amount shrinks as the balance did).

Two cases: the deal's delivery schedule (every batch delivered as scheduled) and the delivery-shortfall case the
stress grid runs (:func:`rwa.model.fleet.delivery_batches` with ``shortfall``: the largest supplier delivers 12 of
each 330 servers scheduled). For the shortfall the pool's integer waterfall runs on the stress row's cash, the
prepayment is applied once the long-stop period is distributed (as the register settles it), and the senior is
followed to maturity: paid in full or not. Integers in the stablecoin's smallest units throughout; the issuer pays
in each release's equity part when it is due, so nothing is deferred and no equity is left to return.
"""

from __future__ import annotations

from dataclasses import dataclass

from rwa.leverage.cashflows import Scenario, largest_supplier, scenario_cashflows
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from rwa.model.fleet import Batch, Escrow, OrderTerms, delivery_batches, release_split
from rwa.model.terms import reserve_at_close
from rwa.model.waterfall import PoolState, fund_reserve, prepay, run_maturity, run_period


@dataclass(frozen=True)
class OrderRelease:
    """One supplier order: what it is worth and what the escrow released against its deliveries."""

    supplier: str
    servers_ordered: int
    unit_price: int
    servers_delivered: int
    released: int
    """The price of the servers delivered (servers x unit price): ``from_raise + from_equity``."""
    from_raise: int
    from_equity: int

    @property
    def price(self) -> int:
        """The whole order's price."""
        return self.servers_ordered * self.unit_price


@dataclass(frozen=True)
class Escrowed:
    """The escrow after one case's deliveries and the long-stop: per order what was released, and the prepayment."""

    orders: tuple[OrderRelease, ...]
    raise_released: int
    equity_released: int
    prepaid: int
    """The raise not released at the long-stop: it prepays the senior (beyond its balance, the junior)."""

    @property
    def released(self) -> int:
        return self.raise_released + self.equity_released


@dataclass(frozen=True)
class Shortfall:
    """The delivery-shortfall case at the long-stop and after: what the prepayment does to the senior."""

    supplier: str
    servers_delivered: int
    servers_ordered: int
    escrow: Escrowed
    long_stop_period: int
    senior_before: int
    """The senior balance once the long-stop period is distributed, before the prepayment."""
    prepaid_senior: int
    prepaid_junior: int
    senior_after: int
    senior_outstanding_at_maturity: int
    """Senior principal and interest arrears left after maturity: 0 when the senior is paid in full."""

    @property
    def senior_paid_in_full(self) -> bool:
        return self.senior_outstanding_at_maturity == 0


@dataclass(frozen=True)
class UseOfProceeds:
    """The raise of a sized deal to the unit: ``raise_amount = reserve + costs + escrowed + to_treasury``, and the
    escrowed part plus the issuer's equity pays for the fleet, order by order."""

    senior: int
    junior: int
    reserve_at_close: int
    costs: int
    capex_total: int
    escrowed: int
    """The capex share of the raise the close puts in escrow: ``min(proceeds, capex_total)``."""
    to_treasury: int
    """The proceeds beyond the fleet's price: to the issuer's treasury at the close."""
    equity: int
    """The issuer's equity the fleet needs alongside the escrowed raise: ``capex_total - escrowed``."""
    long_stop_period: int
    scheduled: Escrowed
    shortfall: Shortfall

    @property
    def raise_amount(self) -> int:
        """Both tranches sold at par."""
        return self.senior + self.junior

    @property
    def proceeds(self) -> int:
        """The raise less the reserve and the costs the close pays."""
        return self.raise_amount - self.reserve_at_close - self.costs


def orders_of(deal: Deal) -> tuple[OrderTerms, ...]:
    """The deal's supplier orders as the register is deployed with them (the recipient is not the calculator's)."""
    cluster = deal.cluster
    return tuple(OrderTerms(o.supplier, "", o.servers, cluster.unit_price(o)) for o in cluster.supplier_orders())


def release_schedule(orders: tuple[OrderTerms, ...], batches: list[Batch], escrowed: int, long_stop_period: int
                     ) -> Escrowed:
    """The escrow's releases for ``batches`` (in attestation order; those after the long-stop period release
    nothing), the issuer paying in each release's equity part, then the long-stop settlement."""
    names = [o.supplier for o in orders]
    escrow = Escrow(sum(o.price for o in orders))
    if escrowed:
        escrow = escrow.fund_raise(escrowed)
    delivered = [0] * len(orders)
    from_raise = [0] * len(orders)
    from_equity = [0] * len(orders)
    for k, batch in enumerate(batches):
        i = names.index(batch.supplier)
        delivered[i] += batch.servers
        if batch.period > long_stop_period or not escrowed:
            continue
        price = batch.servers * orders[i].unit_price
        _, equity_part = release_split(escrow.released_price, price, escrow.raise_amount, escrow.capex_total)
        if equity_part:
            escrow = escrow.fund_equity(equity_part)
        escrow, release = escrow.release(k, i, price)
        from_raise[i] += release.from_raise
        from_equity[i] += release.from_equity
    escrow = escrow.settle()
    rows = tuple(OrderRelease(o.supplier, o.servers, o.unit_price, delivered[i],
                              from_raise[i] + from_equity[i], from_raise[i], from_equity[i])
                 for i, o in enumerate(orders))
    return Escrowed(rows, escrow.raise_released, escrow.equity_released, escrow.prepaid)


def use_of_proceeds(deal: Deal, sizing: Sizing, shortfall: Scenario) -> UseOfProceeds:
    """The use of the raise of ``deal`` sized as ``sizing``; ``shortfall`` is the stress grid's delivery-shortfall
    scenario, whose cash the senior is followed on after the prepayment."""
    terms = sizing.pool_terms(deal)
    reserve = reserve_at_close(deal, terms)
    costs = sum(c.amount for c in deal.offering.costs) if deal.offering is not None else 0
    orders = orders_of(deal)
    capex = sum(o.price for o in orders)
    proceeds = max(sizing.senior_size + sizing.junior_size - reserve - costs, 0)
    escrowed = min(proceeds, capex)
    stop = deal.long_stop_period
    scheduled = release_schedule(orders, delivery_batches(deal), escrowed, stop)
    short_batches = delivery_batches(deal, shortfall=True)
    short = release_schedule(orders, short_batches, escrowed, stop)
    name = largest_supplier(deal) or orders[0].supplier  # without a schedule, the one supplier
    cut = next(o for o in short.orders if o.supplier == name)

    flows = scenario_cashflows(deal, shortfall, sizing.servicing_fee_per_period)
    state = PoolState.opening(terms)
    if reserve:
        state = fund_reserve(state, reserve)
    before = after = state.balance
    paid_senior = paid_junior = 0
    for p in range(1, terms.period_count + 1):
        revenue, refund = flows.revenue[p - 1], flows.refunds[p - 1]
        state, _ = run_period(terms, state, p, revenue + refund, revenue, refund=refund)
        if p == min(stop, terms.period_count):
            before = state.balance
            if short.prepaid:
                state, prepayment = prepay(state, short.prepaid)
                paid_senior, paid_junior = prepayment.senior, prepayment.junior
            after = state.balance
    state, _ = run_maturity(terms, state, flows.residual_value)
    return UseOfProceeds(
        senior=sizing.senior_size,
        junior=sizing.junior_size,
        reserve_at_close=reserve,
        costs=costs,
        capex_total=capex,
        escrowed=escrowed,
        to_treasury=proceeds - escrowed,
        equity=capex - escrowed,
        long_stop_period=stop,
        scheduled=scheduled,
        shortfall=Shortfall(
            supplier=cut.supplier,
            servers_delivered=cut.servers_delivered,
            servers_ordered=cut.servers_ordered,
            escrow=short,
            long_stop_period=stop,
            senior_before=before,
            prepaid_senior=paid_senior,
            prepaid_junior=paid_junior,
            senior_after=after,
            senior_outstanding_at_maturity=state.balance + state.interest_arrears,
        ),
    )
