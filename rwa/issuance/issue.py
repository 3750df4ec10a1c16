"""Issue a deal: validate, size, deploy registry/oracle/tokens/pool, allow and mint investors, write the manifest.

The transactions go in four batches of what the mined contracts allow (:func:`_deploy_and_wire`), each sent at
once and awaited together, so a node mines the issuance in about four blocks. Every batch is recorded in the
deployment manifest before it is broadcast, and every step as it completes (written atomically), so a run that died
halfway resumes where it stopped (:mod:`rwa.issuance.resume`); a completed deployment of the same deal on the same
chain is never issued twice.
Another run of a deal already issued, or being issued, on the chain is found by the deal's mark on-chain
(:func:`deal_marker`), whatever manifest path it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from web3 import Web3

from rwa.build.compile import load_build
from rwa.chain.interface import Chain
from rwa.chain.keys import DEV_REPORTER_SLOT
from rwa.errors import InputError
from rwa.issuance.resume import StepRunner
from rwa.leverage import Sizing, size_deal
from rwa.model.calendar import clock_length
from rwa.model.deal import Deal
from rwa.model.deal_file import deal_hash, load_deal
from rwa.model.placement import allocate
from rwa.model.terms import offering_config, record, reserve_at_close
from rwa.model.units import TRANCHES, Tranche, money_formatter
from rwa.model.waterfall import PoolTerms
from rwa.onchain.base import ContractWrapper
from rwa.onchain.deployment import Manifest, Roles, check_same_chain, load_manifest, save_manifest
from rwa.onchain.stablecoin import TEST_DECIMALS as TEST_STABLECOIN_DECIMALS

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch
    from rwa.onchain.registry import ComplianceRegistry
    from rwa.onchain.tranche import TrancheToken


@dataclass(frozen=True)
class Plan:
    """What an issuance will do, before anything is sent."""

    deal: Deal
    deal_path: Path
    sizing: Sizing
    terms: PoolTerms
    allocations: dict[str, dict[str, int]]



def _refuse_bad_investors(deal: Deal, today: date) -> None:
    """What the registry would only refuse after the contracts are deployed: an expired KYC, a jurisdiction that is
    no ISO country (a zero address is refused with the deal file, :func:`rwa.model.deal.checked_address`)."""
    for i, inv in enumerate(deal.investors):
        if inv.kyc_expiry <= today:
            raise InputError(f"deal.investors[{i}].kyc_expiry: {inv.kyc_expiry} is not after today ({today})")
        try:
            jurisdiction_code(inv.jurisdiction)
        except InputError:
            raise InputError(
                f"deal.investors[{i}].jurisdiction: {inv.jurisdiction!r} is not an ISO 3166-1 alpha-2 country code"
            ) from None


def plan_issue(deal_path: Path, today: date | None = None) -> Plan:
    """Validate and size the deal; everything refused here is refused before anything is sent (``--dry-run`` too).

    ``today`` (UTC, default the wall clock's) is what a KYC expiry must be after."""
    deal = load_deal(deal_path)
    if deal.stablecoin_address is None and deal.decimals != TEST_STABLECOIN_DECIMALS:
        raise InputError(
            f"deal.decimals: {deal.decimals}, but the test stablecoin issuance deploys has {TEST_STABLECOIN_DECIMALS}"
            f" decimals: state decimals = {TEST_STABLECOIN_DECIMALS} or set stablecoin_address"
        )
    _refuse_bad_investors(deal, today or datetime.now(UTC).date())
    if deal.offering is not None:
        _refuse_closed_window(deal, int(datetime.now(UTC).timestamp()), "today")
    sizing = size_deal(deal)  # a deal that carries no senior debt is refused there, in one line
    terms = sizing.pool_terms(deal)
    if deal.offering is not None:
        _refuse_unworkable_offering(deal, sizing, terms)
        return Plan(deal=deal, deal_path=deal_path, sizing=sizing, terms=terms, allocations={t: {} for t in TRANCHES})
    allocations = allocate(deal, sizing.senior_size, sizing.junior_size)
    for tranche, size in (("senior", sizing.senior_size), ("junior", sizing.junior_size)):
        total = sum(allocations[tranche].values())
        if total != size:  # allocate() sums exactly; this guards the invariant the pool relies on
            raise InputError(f"investors: {tranche} allocations sum to {total}, the sized tranche is {size}")
    return Plan(deal=deal, deal_path=deal_path, sizing=sizing, terms=terms, allocations=allocations)


def _refuse_closed_window(deal: Deal, now: int, where: str) -> None:
    """An offering whose window is over when it would be deployed could never take a request."""
    offer = deal.offering
    if offer is not None and int(offer.closes.timestamp()) <= now:
        when = datetime.fromtimestamp(now, UTC).isoformat()
        raise InputError(f"deal.offering.closes: {offer.closes.isoformat()} is not after the time {where} ({when}): "
                         "the window would be over before the offering opened; move opens and closes later")


def _refuse_unworkable_offering(deal: Deal, sizing: Sizing, terms: PoolTerms) -> None:
    """What ``DealOffering``'s constructor would refuse, said before anything is sent."""
    offer = deal.offering
    assert offer is not None
    reserve = reserve_at_close(deal, terms)
    costs = sum(c.amount for c in offer.costs)
    if reserve + costs > sizing.senior_size + sizing.junior_size:
        raise InputError(f"deal.offering: the reserve at close ({reserve}) and the costs ({costs}) exceed the two "
                         f"tranches ({sizing.senior_size + sizing.junior_size}): the raise could never pay them")
    for tranche, take_up, size in (("senior", offer.take_up_senior, sizing.senior_size),
                                   ("junior", offer.take_up_junior, sizing.junior_size)):
        if take_up > size:
            raise InputError(f"deal.offering.take_up_{tranche}: {take_up} is more than the {tranche} tranche ({size})")


def _fund_reserve(chain: Chain, deal: Deal, terms: PoolTerms, manifest: Manifest, pool_addr: str,
                  log: Callable[[str], None]) -> None:
    """A private placement's reserve at close, funded by the deployer (the offering's close funds it otherwise).

    Re-running after a crash funds nothing twice: the pool's reserve is 0 until this step, and a test stablecoin
    is minted only for what the deployer is short of."""
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.stablecoin import Stablecoin

    reserve = reserve_at_close(deal, terms)
    money = money_formatter(deal.decimals, deal.currency)
    pool = LeasePool.at(chain, pool_addr)
    if reserve == 0 or pool.reserve_balance() != 0:
        return
    admin = manifest.roles.admin
    usd = Stablecoin.at(chain, manifest.contracts["stablecoin"])
    short = reserve - usd.balance_of(admin)
    if short > 0:
        if deal.stablecoin_address:
            raise InputError(f"deal.stablecoin_address: the deployer {admin} is {money(short)} short of the reserve "
                             f"at close ({money(reserve)}); fund it and re-run to finish the issuance")
        usd.mint(admin, short, sender=admin)  # the test stablecoin of a development chain
    usd.approve(pool_addr, reserve, sender=admin)
    pool.fund_reserve(reserve, sender=admin)
    log(f"funded the reserve at close: {money(reserve)} (the first {deal.financing.reserve_periods} periods' "
        "scheduled senior debt service)")


def _refuse_unfunded_reserve(chain: Chain, deal: Deal, terms: PoolTerms, admin: str) -> None:
    """A private placement on a real stablecoin: the deployer must hold the reserve at close before anything is
    sent."""
    from rwa.onchain.stablecoin import Stablecoin

    if deal.offering is not None or not deal.stablecoin_address:
        return
    reserve = reserve_at_close(deal, terms)
    money = money_formatter(deal.decimals, deal.currency)
    held = Stablecoin.at(chain, Web3.to_checksum_address(deal.stablecoin_address)).balance_of(admin)
    if held < reserve:
        raise InputError(f"deal.stablecoin_address: the deployer {admin} holds {money(held)}, the reserve at close "
                         f"needs {money(reserve)}: fund the deployer first")


def jurisdiction_code(alpha2: str) -> int:
    """The registry's jurisdiction: the ISO 3166-1 numeric code of an alpha-2 code ("SG" -> 702)."""
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha2.upper())
    if country is None:
        raise InputError(f"investors: jurisdiction {alpha2!r} is not an ISO 3166-1 alpha-2 country code")
    return int(country.numeric)


def kyc_timestamp(day: object) -> int:
    return int(datetime.combine(day, time(23, 59, 59), tzinfo=UTC).timestamp())  # type: ignore[arg-type]


def _abi_hashes() -> dict[str, str]:
    build = load_build()
    return {
        name: Web3.keccak(text=str(sorted(str(i) for i in art.abi))).hex()
        for name, art in sorted(build.artifacts.items())
        if name in {"TestStablecoin", "ComplianceRegistry", "RevenueOracle", "TrancheToken", "LeasePool",
                    "DealTimelock", "DealOffering", "TradeSettlement"}
    }


def default_roles(chain: Chain, deal: Deal) -> Roles:
    """Deployer/issuer, servicer, compliance agent, fee recipient and trustee at the first five local keys (the
    deal's trustee when it names one); the deal's N reporters at the keys from slot 10 on, with its threshold M."""
    last = DEV_REPORTER_SLOT + deal.oracle.reporters
    if len(chain.accounts) < last:
        raise InputError(
            f"issuance needs {last} signing keys (four roles, then {deal.oracle.reporters} reporters from slot "
            f"{DEV_REPORTER_SLOT}); have {len(chain.accounts)}: add keys to RWA_PRIVATE_KEYS"
        )
    accts = chain.accounts
    reporters = {a.address.lower() for a in accts[DEV_REPORTER_SLOT:last]}
    own = {a.address.lower() for a in accts[:4]}
    if reporters & own:
        raise InputError("a reporter key is also the issuer's, the servicer's, the agent's or the fee recipient's: "
                         "the reporters must be parties other than the issuer; give each its own key in "
                         "RWA_PRIVATE_KEYS")
    return Roles(
        admin=accts[0].address,
        issuer=accts[0].address,
        servicer=accts[1].address,
        agent=accts[2].address,
        reporters=sorted((a.address for a in accts[DEV_REPORTER_SLOT:last]), key=lambda a: int(a, 16)),
        threshold=deal.oracle.threshold,
        fee_recipient=accts[3].address,
        trustee=deal.governance.trustee or accts[4].address,
        delay_seconds=deal.governance_delay,
    )


def _refuse_or_resume(chain: Chain, out: Path, digest: str) -> Manifest | None:
    if not out.is_file():
        return None
    existing = load_manifest(out)
    check_same_chain(chain, existing, what=f"the deployment in {out}")
    if existing.deal_hash != digest:
        raise InputError(f"{out} was issued from another deal file ({existing.deal_file}); pass another --out")
    if existing.complete:
        pool = existing.contracts.get("pool", "")
        if pool and len(chain.w3.eth.get_code(Web3.to_checksum_address(pool))) > 0:
            raise InputError(f"this deal is already issued on chain {chain.chain_id}: pool {pool} (see {out})")
        raise InputError(f"{out} says the deal is issued but chain {chain.chain_id} has no pool at {pool}")
    return existing


_ROLE_GRANTED = Web3.keccak(text="RoleGranted(bytes32,address,address)").to_0x_hex()


def deal_marker(digest: str) -> bytes:
    """The deal's on-chain mark: its sha256 as an AccessControl role id that the admin holds on the registry.

    The role guards nothing; granting it emits ``RoleGranted`` with the deal's hash as the first indexed topic, so
    an issuance of the deal on a chain is found by one log query on that topic, whatever manifest it wrote."""
    return bytes.fromhex(digest)


def _refuse_issued_on_chain(chain: Chain, digest: str) -> None:
    """Refuse a deal whose mark is already on this chain (another ``--out``, or a run that died halfway)."""
    logs = chain.w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": "latest", "topics": [_ROLE_GRANTED, "0x" + deal_marker(digest).hex()]}
    )
    for entry in logs:
        address = Web3.to_checksum_address(entry["address"])
        if len(chain.w3.eth.get_code(address)) > 0:
            raise InputError(
                f"this deal (sha256 {digest[:12]}...) is already issued on chain {chain.chain_id} (or its issuance "
                f"was interrupted): its registry is {address} (block {entry['blockNumber']}); resume with that run's "
                "--out, or issue another deal"
            )


def _refuse_stablecoin_decimals(chain: Chain, deal: Deal) -> None:
    """The stablecoin named by the deal must exist on this chain and have the deal's decimals."""
    from web3.exceptions import Web3Exception

    from rwa.errors import ContractRevertError
    from rwa.onchain.stablecoin import Stablecoin

    if deal.stablecoin_address is None:
        return  # plan_issue compared the deal with the test stablecoin's TEST_STABLECOIN_DECIMALS
    address = Web3.to_checksum_address(deal.stablecoin_address)
    if len(chain.w3.eth.get_code(address)) == 0:
        raise InputError(f"deal.stablecoin_address: no contract at {address} on chain {chain.chain_id}")
    try:
        decimals = Stablecoin.at(chain, address).decimals()
    except (Web3Exception, ContractRevertError):
        raise InputError(f"deal.stablecoin_address: {address} does not answer ERC-20 decimals()") from None
    if decimals != deal.decimals:
        raise InputError(
            f"deal.decimals: {deal.decimals}, but the stablecoin at {address} has {decimals} decimals"
        )


def issue(chain: Chain, plan: Plan, out: Path, log: Callable[[str], None]) -> Manifest:
    """Deploy and mint the deal described by ``plan``; resumes an interrupted run recorded in ``out``."""
    deal, sizing = plan.deal, plan.sizing
    digest = deal_hash(plan.deal_path)
    manifest = _refuse_or_resume(chain, out, digest)
    _refuse_stablecoin_decimals(chain, deal)
    now = chain.now()
    for i, inv in enumerate(deal.investors):
        if kyc_timestamp(inv.kyc_expiry) <= now:  # the chain's clock can be ahead of the wall clock plan_issue used
            raise InputError(f"deal.investors[{i}].kyc_expiry: {inv.kyc_expiry} has passed on chain {chain.chain_id}")
    if manifest is None:
        _refuse_closed_window(deal, now, f"on chain {chain.chain_id}")
        _refuse_issued_on_chain(chain, digest)
        roles = default_roles(chain, deal)
        _refuse_unfunded_reserve(chain, deal, plan.terms, roles.admin)
        anchor = chain.w3.eth.get_block("latest")  # number and hash of one block, even on a node that mines meanwhile
        manifest = Manifest(
            chain_id=chain.chain_id,
            network=chain.network,
            deployment_block=int(anchor["number"]),
            deployment_block_hash=anchor["hash"].to_0x_hex(),
            deal_file=str(plan.deal_path.resolve()),
            deal_hash=digest,
            compiler_version=load_build().compiler_version,
            abi_hashes=_abi_hashes(),
            roles=roles,
            senior_size=sizing.senior_size,
            terms=record(plan.terms),
            junior_size=sizing.junior_size,
        )
        save_manifest(manifest, out)
    else:
        log(f"resuming the issuance recorded in {out} (done: {', '.join(manifest.progress) or 'nothing yet'})")
    run = StepRunner(chain, manifest, out, log)
    run.resume()
    _deploy_and_wire(chain, plan, manifest, run, digest, log)
    manifest.complete = True
    run.save()
    return manifest


def _deploy_and_wire(chain: Chain, plan: Plan, manifest: Manifest, run: StepRunner, digest: str,
                     log: Callable[[str], None]) -> None:
    """The issuance in batches (:class:`rwa.chain.pipeline.Batch`), each holding only transactions the mined state
    allows, so a node estimates each and mines a batch in about one block:

    1. the contracts that read no other: the test stablecoin, the registry, the oracle, the timelock;
    2. the tranche tokens (their constructor reads the stablecoin's decimals); the deal's mark; the registry's and
       the timelock's roles;
    3. the pool (it reads the tokens' supply) and the trade settlement; the tokens bound to the registry and their
       roles;
    4. the oracle bound to the pool; the investors and the settlement allowed; with an offering, the offering (it
       reads the pool) and its roles on the tokens, then every admin role handed to the timelock. A private
       placement mints, funds the reserve at close, and hands over in a fifth.

    Each step checks the chain before adding a transaction, so a run resumed after a crash sends only what is
    missing."""
    from rwa.model.fleet import register_terms
    from rwa.model.terms import default_rules, treasury_of
    from rwa.model.units import ZERO_ADDRESS
    from rwa.onchain.base import role_id
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.register import BIND_GAS, FleetRegister
    from rwa.onchain.registry import ComplianceRegistry
    from rwa.onchain.settlement import TradeSettlement
    from rwa.onchain.stablecoin import Stablecoin
    from rwa.onchain.timelock import DealTimelock
    from rwa.onchain.tranche import TrancheToken

    deal, sizing, terms = plan.deal, plan.sizing, plan.terms
    roles = manifest.roles
    admin = roles.admin
    contracts = manifest.contracts
    wired = run.done("wire")  # an older version wired everything in one step of that name
    if deal.stablecoin_address:
        contracts.setdefault("stablecoin", Web3.to_checksum_address(deal.stablecoin_address))

    def grant(batch: Batch, contract: ContractWrapper, role: str, account: str) -> None:
        if not contract.has_role(role, account):
            batch.call(contract.contract.functions.grantRole(role_id(role), Web3.to_checksum_address(account)),
                       admin)

    def deploy(batch: Batch, key: str, make: Callable[[Batch], ContractWrapper]) -> None:
        if key not in contracts:
            with batch.step(key):
                make(batch)

    def first(batch: Batch) -> None:
        if not deal.stablecoin_address:
            deploy(batch, "stablecoin", lambda b: Stablecoin.deploy_test(chain, admin, batch=b))
        deploy(batch, "registry", lambda b: ComplianceRegistry.deploy(chain, admin, sender=admin, batch=b))
        first_start = int(deal.periods.first_start.timestamp())
        oracle_cfg = deal.oracle
        # the oracle times reports by the pool's calendar: the deal's months from the same first start
        deploy(batch, "oracle", lambda b: RevenueOracle.deploy(
            chain, admin, roles.reporters, roles.threshold, first_start, clock_length(first_start, terms.period_ends),
            oracle_cfg.grace_seconds, oracle_cfg.max_revenue_multiple_bps, deal.periods.count, batch=b))
        deploy(batch, "timelock", lambda b: DealTimelock.deploy(chain, roles.delay_seconds, [roles.issuer],
                                                                admin=admin, batch=b))

    run.batch(["stablecoin", "registry", "oracle", "timelock"], first)
    registry = ComplianceRegistry.at(chain, contracts["registry"])
    timelock = DealTimelock.at(chain, contracts["timelock"])
    oracle = RevenueOracle.at(chain, contracts["oracle"])
    symbol = "".join(w[0] for w in deal.name.split()[:3]).upper() or "RWA"

    def second(batch: Batch) -> None:
        deploy(batch, "register", lambda b: FleetRegister.deploy(
            chain, register_terms(deal, treasury_of(deal, roles.issuer)), stablecoin=contracts["stablecoin"],
            oracle=oracle.address, sender=admin, batch=b))
        for tranche in TRANCHES:
            deploy(batch, tranche, lambda b, t=tranche: TrancheToken.deploy(  # type: ignore[misc]
                chain, f"{deal.name} {t}", f"{symbol}-{t[:3].upper()}", contracts["stablecoin"], registry.address,
                admin, sender=admin, batch=b))
        marker = deal_marker(digest)
        if not run.done("mark") and not registry.contract.functions.hasRole(marker, admin).call():
            batch.call(registry.contract.functions.grantRole(marker, admin), admin, step="mark")
        if not run.done("wire-roles") and not wired:
            with batch.step("wire-roles"):
                grant(batch, registry, "AGENT_ROLE", roles.agent)
                grant(batch, registry, "COMPLIANCE_ROLE", roles.agent)
                grant(batch, timelock, "CANCELLER_ROLE", roles.trustee)
                if roles.issuer != roles.trustee and timelock.has_role("CANCELLER_ROLE", roles.issuer):
                    # only the trustee cancels
                    batch.call(timelock.contract.functions.revokeRole(role_id("CANCELLER_ROLE"), roles.issuer), admin)

    run.batch(["register", "senior", "junior", "mark", "wire-roles"], second)
    register = FleetRegister.at(chain, contracts["register"])
    tokens = {t: TrancheToken.at(chain, contracts[t]) for t in TRANCHES}

    def third(batch: Batch) -> None:
        deploy(batch, "pool", lambda b: LeasePool.deploy(
            chain, terms, default_rules(deal), stablecoin=contracts["stablecoin"], oracle=oracle.address,
            senior=tokens["senior"].address, junior=tokens["junior"].address, admin=timelock.address,
            servicer=roles.servicer, trustee=roles.trustee, fee_recipient=roles.fee_recipient,
            junior_face=manifest.junior_size, register=register.address, sender=admin, batch=b))
        deploy(batch, "settlement", lambda b: TradeSettlement.deploy(
            chain, contracts["stablecoin"], tokens["senior"].address, tokens["junior"].address, sender=admin,
            batch=b))
        if not run.done("wire-tokens") and not wired:
            pool = contracts.get("pool") or next(p.created for p in batch.planned if p.step == "pool")
            assert pool is not None
            with batch.step("wire-tokens"):
                bound = {a.lower() for a in registry.bound_tokens()}
                for token in tokens.values():
                    if token.address.lower() not in bound:
                        batch.call(registry.contract.functions.bindToken(token.address), admin)
                    grant(batch, token, "DISTRIBUTOR_ROLE", pool)
                    grant(batch, token, "AGENT_ROLE", timelock.address)  # forced transfers: announced, cancellable
                    grant(batch, token, "COMPLIANCE_ROLE", roles.agent)

    run.batch(["pool", "settlement", "wire-tokens"], third)
    pool_addr, settlement_addr = contracts["pool"], contracts["settlement"]

    def hand_over(batch: Batch) -> None:
        """The timelock becomes every contract's admin; the deployer keeps no power it does not need."""
        if run.done("hand-over"):
            return
        with batch.step("hand-over"):
            held = {"ISSUER_ROLE": None, "AGENT_ROLE": roles.agent, "COMPLIANCE_ROLE": roles.agent}
            for contract in (*tokens.values(), registry, oracle):
                grant(batch, contract, "DEFAULT_ADMIN_ROLE", timelock.address)
                for role, keeper in held.items():
                    if role in {r.value for r in contract.ROLES} and keeper != admin and contract.has_role(role, admin):
                        batch.call(contract.contract.functions.renounceRole(role_id(role), admin), admin)
                if contract.has_role("DEFAULT_ADMIN_ROLE", admin):
                    batch.call(contract.contract.functions.renounceRole(role_id("DEFAULT_ADMIN_ROLE"), admin), admin)
            if timelock.has_role("DEFAULT_ADMIN_ROLE", admin):
                batch.call(timelock.contract.functions.renounceRole(role_id("DEFAULT_ADMIN_ROLE"), admin), admin)

    def fourth(batch: Batch) -> None:
        if not wired:
            with batch.step("wire"):
                if oracle.pool().lower() != pool_addr.lower():
                    batch.call(oracle.contract.functions.bindPool(pool_addr), admin)
                if oracle.register().lower() != register.address.lower():
                    batch.call(oracle.contract.functions.bindRegister(register.address), admin)
        if not run.done("allow"):
            with batch.step("allow"):
                _allow(batch, deal, registry, settlement_addr, admin)
        if deal.offering is not None:
            _offer(chain, plan, manifest, run, batch, tokens, pool_addr, register.address)
            hand_over(batch)
        if not run.done("bind-register") and int(register.pool(), 16) == 0:
            offering = contracts.get("offering") or next(
                (p.created for p in batch.planned if p.step == "offering"), None) or ZERO_ADDRESS
            # bindDeal reads the pool and the offering, which may be mined in this very batch: a named limit
            batch.call(register.contract.functions.bindDeal(pool_addr, offering), admin, step="bind-register",
                       gas=BIND_GAS)

    run.batch(["wire", "allow", *(("offering", "open-offering", "hand-over") if deal.offering else ()),
               "bind-register"], fourth)
    log(f"allowed {len(deal.investors)} investors and the settlement contract in the compliance registry")
    if deal.offering is not None:
        config, _ = offering_config(deal, terms, roles.issuer)
        log(f"offering {contracts['offering']} sells {sizing.senior_size:,} senior and {sizing.junior_size:,} "
            f"junior units from {config.open_time} to {config.close_time}")
    else:
        _mint(plan, tokens, run, admin, log)
        run.step("fund-reserve", lambda: _fund_reserve(chain, deal, terms, manifest, pool_addr, log))
        run.batch(["hand-over"], hand_over)
    log(f"handed every admin role to the timelock ({roles.delay_seconds:,} s delay); the deployer kept none")


def _allow(batch: Batch, deal: Deal, registry: ComplianceRegistry, settlement: str, admin: str) -> None:
    """The deal's investors and the trade settlement (it moves tokens as a spender, and the tokens check a spender
    like a holder) into the registry, unless already there."""
    todo = [inv for inv in deal.investors if not registry.is_compliant(inv.address)]
    fn = registry.contract.functions
    if todo:
        batch.call(fn.allowInvestors([Web3.to_checksum_address(inv.address) for inv in todo],
                                     [kyc_timestamp(inv.kyc_expiry) for inv in todo],
                                     [jurisdiction_code(inv.jurisdiction) for inv in todo]), admin)
    if not registry.is_compliant(settlement):
        latest = max(deal.investors, key=lambda inv: inv.kyc_expiry)
        batch.call(fn.allowInvestors([settlement], [kyc_timestamp(latest.kyc_expiry)],
                                     [jurisdiction_code(latest.jurisdiction)]), admin)


def _offer(chain: Chain, plan: Plan, manifest: Manifest, run: StepRunner, batch: Batch,
           tokens: dict[Tranche, TrancheToken], pool: str, register: str) -> None:
    """Deploy the offering and give it the tokens' ISSUER_ROLE: its close mints each tranche to itself and closes
    each token's issuance, and each claim delivers a buyer's units; nothing is minted now."""
    from rwa.onchain.base import role_id
    from rwa.onchain.offering import DealOffering

    admin = manifest.roles.admin
    config, costs = offering_config(plan.deal, plan.terms, manifest.roles.issuer, register)
    if "offering" not in manifest.contracts:
        with batch.step("offering"):
            DealOffering.deploy(chain, config, costs, pool, plan.sizing.senior_size, plan.sizing.junior_size,
                                sender=admin, batch=batch)
    address = manifest.contracts.get("offering") or next(p.created for p in batch.planned if p.step == "offering")
    assert address is not None
    if run.done("open-offering"):
        return
    with batch.step("open-offering"):
        for token in tokens.values():
            if not token.has_role("ISSUER_ROLE", address):
                batch.call(token.contract.functions.grantRole(role_id("ISSUER_ROLE"), address), admin)


def _mint(plan: Plan, tokens: dict[Tranche, TrancheToken], run: StepRunner, admin: str,
          log: Callable[[str], None]) -> None:
    """A private placement: each tranche minted to its listed holders, then its issuance closed."""
    for tranche in TRANCHES:

        def mint(t: Tranche = tranche) -> None:
            token = tokens[t]
            todo: dict[str, int] = {}
            fresh = token.total_supply() == 0  # nothing minted yet: no holder to look up one by one
            for holder, amount in plan.allocations[t].items():
                have = 0 if fresh else token.balance_of(holder)
                if have == amount:
                    continue  # minted by an interrupted run
                if have != 0:
                    raise InputError(f"{t} holder {holder} already holds {have}, expected 0 or {amount}")
                if amount:
                    todo[holder] = amount
            if todo:
                token.mint_batch(list(todo), list(todo.values()), sender=admin, batch_size=100)
            if not token.issuance_closed():
                token.close_issuance(sender=admin)
            log(f"minted {sum(plan.allocations[t].values()):,} {t} units to {len(plan.allocations[t])} investors")

        run.step(f"mint-{tranche}", mint)
