"""Bad input never changes the chain: every refusal is one ``error:`` line on stderr, exit code 2, and the head block
of the chain is what it was. Each command runs as its own process (``python -m rwa.cli.main``) on a state file."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from rwa.chain import tx
from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.issuance.issue import issue, plan_issue
from rwa.onchain.deployed import open_deployment
from rwa.oracle.publisher import publish
from tests.support.anvil import AnvilNode
from tests.support.issuance import deal_for, rwa
from tests.support.lifecycle import attest_fleet
from tests.support.rpc_proxy import dying_proxy


@dataclass(frozen=True)
class Issued:
    """A state file holding one issued deal with period 1 reported, and an 18-decimal ERC-20 beside it."""

    state: Path
    deal: Path
    manifest: Path
    holder: str
    token18: str


def _issue_fresh(folder: Path, periods_ended: int = 1) -> Issued:
    """A fresh embedded chain in ``folder`` with the deal issued, period 1 reported (its outbox in ``folder``) and the
    servers of every ended period attested."""
    state = folder / "chain.sqlite"
    with connect(state=state) as chain:
        investors = chain.accounts[15:20]
        deal_path = deal_for(investors, folder, chain.now(), periods_ended=periods_ended)
        manifest = issue(chain, plan_issue(deal_path), folder / "deployment.json", lambda _m: None)
        publish(chain, manifest, period=1, simulate=True, outbox=folder / "outbox.sqlite")
        attest_fleet(open_deployment(chain, manifest), periods_ended)  # the batches of every ended period
        token18 = tx.deploy(chain, "Decimals18Token", 10**24, sender=chain.accounts[0].address).address
    return Issued(state, deal_path, folder / "deployment.json", investors[0].address, str(token18))


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return _issue_fresh(tmp_path_factory.mktemp("bad-input"))


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """A second fresh embedded chain with a deal issued by the same keys (same chain id, same addresses); its
    period 2 has ended and is not reported."""
    return _issue_fresh(tmp_path_factory.mktemp("bad-input-other"), periods_ended=2)


def _head(state: Path) -> tuple[int, str]:
    with connect(state=state) as chain:
        block = chain.w3.eth.get_block("latest")
        return int(block["number"]), block["hash"].to_0x_hex()


def _contents(path: Path) -> bytes | list[str] | None:
    """A file's bytes, a folder's names, or None when nothing is there."""
    if path.is_dir():
        return sorted(p.name for p in path.iterdir())
    return path.read_bytes() if path.exists() else None


def _refused(state: Path | None, *args: str, match: str, env: dict[str, str] | None = None,
             untouched: Sequence[Path] = (), code: int = 2) -> str:
    """Run ``rwa ARGS``; it must exit ``code`` with one ``error:`` line containing ``match``, leave the head alone
    and every path in ``untouched`` as it was (a file's bytes, a folder's names, or nothing there)."""
    before = _head(state) if state is not None else None
    files = {p: _contents(p) for p in untouched}
    done = rwa(*args, env=env)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert match in lines[0], lines[0]
    if state is not None:
        assert _head(state) == before
    assert {p: _contents(p) for p in untouched} == files
    return lines[0]


def _copy(issued: Issued, tmp_path: Path) -> Path:
    """A private copy of the issued chain, for a test that goes on to change it."""
    state = tmp_path / "chain.sqlite"
    shutil.copyfile(issued.state, state)
    return state


def _edited_deal(issued: Issued, tmp_path: Path, old: str, new: str) -> Path:
    text = issued.deal.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "deal.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# -- issuance ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "replacement", "match"),
    [
        (r"decimals = 6 ", "decimals = 18 ", "deal.decimals: 18, but the test stablecoin"),
        (r"kyc_expiry = \S+", "kyc_expiry = 2020-01-01", "deal.investors[0].kyc_expiry"),
        (r'jurisdiction = "SG"', 'jurisdiction = "XX"', "deal.investors[0].jurisdiction"),
        (r'address = "0x[0-9a-fA-F]{40}"', f'address = "0x{"00" * 20}"', "deal.investors[0].address"),
        (r"rent_per_server_month = [0-9.]+", "rent_per_server_month = 500.0", "deal.leases: the cash flow"),
        (r"\Z", f'\n[governance]\ntrustee = "0x{"00" * 20}"\n', "deal.governance.trustee: must not be the zero"),
    ],
    ids=["decimals-vs-test-stablecoin", "kyc-expired", "unknown-country", "zero-address", "rent-below-cost",
         "zero-trustee"],
)
def test_issue_refuses_a_bad_deal_before_deploying(
    issued: Issued, tmp_path: Path, pattern: str, replacement: str, match: str
) -> None:
    text = issued.deal.read_text(encoding="utf-8")
    # the rent goes down in every lease (below the operating costs); every other edit touches the first match only
    edited, n = re.subn(pattern, replacement, text, count=0 if "rent" in pattern else 1)
    assert n >= 1
    deal = tmp_path / "deal.toml"
    deal.write_text(edited, encoding="utf-8")
    out = tmp_path / "deployment.json"
    _refused(issued.state, "issue", "--deal", str(deal), "--out", str(out), "--state", str(issued.state), match=match)
    assert not out.exists()
    _refused(None, "issue", "--deal", str(deal), "--dry-run", match=match)


def test_issue_refuses_a_deal_whose_decimals_differ_from_its_stablecoin(issued: Issued, tmp_path: Path) -> None:
    deal = _edited_deal(issued, tmp_path, "decimals = 6 ", f'stablecoin_address = "{issued.token18}"\ndecimals = 6 ')
    out = tmp_path / "deployment.json"
    _refused(issued.state, "issue", "--deal", str(deal), "--out", str(out), "--state", str(issued.state),
             match="has 18 decimals")
    assert not out.exists()


def test_issue_refuses_the_same_deal_with_another_out(issued: Issued, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere.json"
    _refused(issued.state, "issue", "--deal", str(issued.deal), "--out", str(out), "--state", str(issued.state),
             match="is already issued on chain")
    assert not out.exists()


def test_issue_refuses_an_out_that_is_a_folder_or_garbage(issued: Issued, tmp_path: Path) -> None:
    deal = _edited_deal(issued, tmp_path, "H800", "H800 other")  # another deal: only --out is wrong
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xffnot json")
    _refused(issued.state, "issue", "--deal", str(deal), "--out", str(tmp_path), "--state", str(issued.state),
             match="is a folder")
    _refused(issued.state, "issue", "--deal", str(deal), "--out", str(garbage), "--state", str(issued.state),
             match="not a JSON deployment manifest")


# -- another chain's records -----------------------------------------------------------------------------------


def test_another_embedded_chains_manifest_outbox_and_ledger_are_refused(
    issued: Issued, other: Issued, tmp_path: Path
) -> None:
    mine = _copy(issued, tmp_path)
    theirs = json.loads(other.manifest.read_text(encoding="utf-8"))
    assert theirs["contracts"] == json.loads(issued.manifest.read_text(encoding="utf-8"))["contracts"]
    foreign = ["--deployment", str(other.manifest), "--state", str(mine)]
    for args in (("distribute", "--period", "1"), ("status",), ("value",), ("oracle", "status"),
                 ("replay", "--out", str(tmp_path / "audit"))):
        _refused(mine, *args, *foreign, match="written on another chain")
    own = ["--deployment", str(issued.manifest), "--state", str(mine)]
    outbox = other.manifest.parent / "outbox.sqlite"
    outbox_bytes = outbox.read_bytes()
    for args in (("oracle", "status"), ("oracle", "publish", "--simulate")):
        _refused(mine, *args, "--outbox", str(outbox), *own, match="written for another deployment or chain")
    assert outbox.read_bytes() == outbox_bytes
    ledger = tmp_path / "their-ledger.sqlite"
    # Their chain's own audit writes the ledger (its verdict is beside the point: the fixture's first period may
    # already be late by the wall clock, a finding).
    theirs = rwa("replay", "--out", str(tmp_path / "their-audit"), "--db", str(ledger), "--deployment",
                 str(other.manifest), "--state", str(other.state))
    assert theirs.returncode in (0, 1) and ledger.exists(), theirs.stderr
    ledger_bytes = ledger.read_bytes()
    _refused(mine, "replay", "--out", str(tmp_path / "audit"), "--db", str(ledger), *own,
             match="belongs to another deployment or history")
    assert ledger.read_bytes() == ledger_bytes
    assert not (tmp_path / "audit").exists()


# -- trades and signed reports: what the chain would refuse is refused before sending ---------------------------


def _order(issued: Issued, state: Path, out: Path) -> Path:
    rwa("trade", "make", "--tranche", "senior", "--amount", "1000", "--price", "1000", "--seller", issued.holder,
        "--out", str(out), "--deployment", str(issued.manifest), "--state", str(state), check=True)
    return out


def _signed_again(order: Path, out: Path, chain_id: int | None = None, settlement: str | None = None,
                  **fields: object) -> Path:
    """``order`` with ``fields`` changed, signed again by its seller for ``chain_id``/``settlement`` when given
    (else its signature is kept: a tampered order)."""
    from rwa.onchain.settlement import Order, SignedOrder, sign_order

    signed = SignedOrder.read(order)
    data = json.loads(order.read_text(encoding="utf-8"))
    data["order"].update(fields)
    if chain_id is not None or settlement is not None:
        with connect(state=order.parent / "keys.sqlite") as keys:  # every embedded chain has the same dev keys
            seller = keys.account(signed.order.seller)
        resigned = sign_order(Order(**data["order"]), seller, chain_id or keys.chain_id,
                              settlement or "0x" + "11" * 20)
        data["signature"] = "0x" + resigned.signature.hex()
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


def test_trade_fill_refuses_an_order_the_settlement_would_refuse(issued: Issued, other: Issued, tmp_path: Path) -> None:
    mine, theirs = _copy(issued, tmp_path), tmp_path / "theirs.sqlite"
    shutil.copyfile(other.state, theirs)
    order = _order(issued, mine, tmp_path / "order.json")
    settlement = json.loads(issued.manifest.read_text(encoding="utf-8"))["contracts"]["settlement"]
    buyer = "0x252Dae0A4b9d9b80F504F6418acd2d364C0c59cD"  # an investor of the example deal (key 16)
    forged = "not its seller's"
    cases = [
        (_signed_again(order, tmp_path / "tampered.json", price=1), forged),
        (_signed_again(order, tmp_path / "other-settlement.json", settlement="0x" + "11" * 20), forged),
        (_signed_again(order, tmp_path / "other-chain.json", chain_id=31337, settlement=settlement), forged),
        (_signed_again(order, tmp_path / "string-amount.json", amount="1000"), "order.amount: '1000' is not an int"),
        (_signed_again(order, tmp_path / "huge-expiry.json", expiry=2**64), "order.expiry: 18446744073709551616"),
    ]
    common = ["--buyer", buyer, "--deployment", str(issued.manifest), "--state", str(mine)]
    for path, match in cases:
        _refused(mine, "trade", "fill", "--order", str(path), *common, match=match)
    fresh = tmp_path / "fresh.sqlite"  # where the seller approved nothing yet
    shutil.copyfile(issued.state, fresh)
    made_elsewhere = _order(other, theirs, tmp_path / "made-on-the-other-chain.json")
    _refused(fresh, "trade", "fill", "--order", str(made_elsewhere), "--buyer", buyer, "--deployment",
             str(issued.manifest), "--state", str(fresh), match="made on another chain")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--nonce", "-1"), "--nonce: -1 is not between 0 and 2**256 - 1"),
        (("--valid-for", str(2**70)), "--valid-for (the order's expiry)"),
        (("--out", "{tmp}"), "is a folder"),
        (("--out", "{file}/order.json"), "is a file, not a folder"),
    ],
    ids=["negative-nonce", "huge-validity", "out-a-folder", "out-under-a-file"],
)
def test_trade_make_refuses_before_approving(issued: Issued, tmp_path: Path, args: tuple[str, ...], match: str
                                             ) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    args = tuple(a.format(tmp=tmp_path, file=a_file) for a in args)
    if "--out" not in args:
        args = (*args, "--out", str(tmp_path / "order.json"))
    _refused(issued.state, "trade", "make", "--tranche", "senior", "--amount", "1000", "--price", "1000", "--seller",
             issued.holder, *args, "--deployment", str(issued.manifest), "--state", str(issued.state), match=match,
             untouched=[tmp_path])


def test_trade_make_refuses_a_nonce_an_unfilled_order_holds(issued: Issued, tmp_path: Path) -> None:
    state = _copy(issued, tmp_path)
    common = ["--tranche", "senior", "--amount", "1000", "--price", "1000", "--seller", issued.holder,
              "--deployment", str(issued.manifest), "--state", str(state)]
    first = tmp_path / "first.json"
    rwa("trade", "make", *common, "--nonce", "7", "--out", str(first), check=True)
    second = tmp_path / "second.json"
    _refused(state, "trade", "make", *common, "--nonce", "7", "--out", str(second),
             match=f"--nonce 7: {issued.holder} already signed the order {first}", untouched=[second])
    for out in (tmp_path / "a.json", tmp_path / "b.json"):  # the default nonces of one second differ too
        rwa("trade", "make", *common, "--out", str(out), check=True)
    nonces = {json.loads(p.read_text(encoding="utf-8"))["order"]["nonce"] for p in tmp_path.glob("[ab].json")}
    assert len(nonces) == 2 and 7 not in nonces


def test_trade_cancel_refuses_a_negative_nonce(issued: Issued) -> None:
    _refused(issued.state, "trade", "cancel", "--seller", issued.holder, "--nonce", "-1", "--deployment",
             str(issued.manifest), "--state", str(issued.state), match="--nonce: -1 is not between")


def test_publish_signed_refuses_a_short_quorum_or_a_stranger_before_sending(other: Issued, tmp_path: Path) -> None:
    from eth_account import Account

    from rwa.onchain.oracle import Report
    from rwa.oracle.report import sign_report
    from rwa.oracle.signatures import SignedReport

    state = tmp_path / "chain.sqlite"
    shutil.copyfile(other.state, state)
    common = ["--deployment", str(other.manifest), "--state", str(state)]
    folder = tmp_path / "signatures"
    for key in ("0", "1"):
        rwa("oracle", "sign", "--period", "2", "--dev-key", key, "--simulate", "--out", str(folder), *common,
            check=True)
    outbox = tmp_path / "outbox.sqlite"
    publish = ["oracle", "publish", "--signatures", str(folder), "--outbox", str(outbox), *common]
    _refused(state, *publish, match="period 2: 2 reporter signatures present, the quorum needs 3",
             untouched=[outbox, folder])
    first = json.loads(next(folder.glob("period-2-*.json")).read_text(encoding="utf-8"))
    shutil.copyfile(next(folder.glob("period-2-*.json")), folder / "period-2-v0-copy.json")  # a duplicate signer
    _refused(state, *publish, match="2 reporter signatures present", untouched=[outbox])
    stranger = Account.create()
    figures = Report.from_json(first["report"])
    (signature,) = sign_report(figures, [stranger], first["chain_id"], first["oracle"])
    forged = SignedReport(figures, stranger.address, signature, first["chain_id"], first["oracle"])
    (folder / f"period-2-v0-{stranger.address}.json").write_text(json.dumps(forged.to_json()), encoding="utf-8")
    _refused(state, *publish, match=f"{stranger.address} signed period 2 but is not a reporter", untouched=[outbox])


# -- a node that dies in the middle of a command -------------------------------------------------------------


def test_a_node_that_dies_mid_command_is_one_line_and_a_rerun_finishes(
    anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path
) -> None:
    from eth_account import Account

    from rwa.onchain.pool import LeasePool

    investors = [Account.from_key(k) for k in anvil.private_keys[15:20]]
    deal = deal_for(investors, tmp_path, anvil_chain.now(), periods_ended=1)
    manifest = issue(anvil_chain, plan_issue(deal), tmp_path / "deployment.json", lambda _m: None)
    publish(anvil_chain, manifest, period=1, simulate=True, outbox=tmp_path / "outbox.sqlite")
    env = {"RWA_PRIVATE_KEYS": ",".join(anvil.private_keys)}
    common = ["--deployment", str(tmp_path / "deployment.json")]
    with dying_proxy(anvil.url, answers=1) as proxy:  # it answers the chain id, then nothing
        _refused(None, "status", *common, "--rpc-url", proxy.url, env=env, match="the node stopped answering",
                 code=1)
    before = anvil_chain.head()[0]
    with dying_proxy(anvil.url, sends=1) as proxy:  # the first transaction goes out, then the node dies
        _refused(None, "distribute", "--period", "1", *common, "--rpc-url", proxy.url, env=env,
                 match="the node stopped answering", code=1)
    pool = LeasePool.at(anvil_chain, manifest.address("pool"))
    assert anvil_chain.head()[0] == before + 1 and pool.last_distributed_period() == 0
    done = rwa("distribute", "--period", "1", *common, "--rpc-url", anvil.url, env=env, check=True)
    assert "period 1 distributed" in done.stdout and pool.last_distributed_period() == 1


# -- operation --------------------------------------------------------------------------------------------------


def test_distribute_refuses_an_absurd_tax_refund_and_the_period_stays_payable(
    issued: Issued, tmp_path: Path
) -> None:
    state = _copy(issued, tmp_path)
    common = ["--deployment", str(issued.manifest), "--state", str(state)]
    _refused(state, "distribute", "--period", "1", "--tax-refund", str(2**200), "--raw", *common,
             match="can still distribute")
    _refused(state, "distribute", "--period", "1", "--amount", str(2**96), "--raw", *common,
             match="can still distribute")
    done = rwa("distribute", "--period", "1", *common, check=True)
    assert "period 1 distributed" in done.stdout


def test_distribute_refuses_a_deal_file_edited_after_issuance(issued: Issued, tmp_path: Path) -> None:
    edited = _edited_deal(issued, tmp_path, "refunds_total", "refunds_total = 1\n# was refunds_total")
    manifest = json.loads(issued.manifest.read_text(encoding="utf-8"))
    manifest["deal_file"] = str(edited)
    moved = tmp_path / "deployment.json"
    moved.write_text(json.dumps(manifest), encoding="utf-8")
    _refused(issued.state, "distribute", "--period", "1", "--deployment", str(moved), "--state", str(issued.state),
             match="was edited after issuance")


def test_amending_a_distributed_period_is_refused_before_signing(issued: Issued, tmp_path: Path) -> None:
    state = _copy(issued, tmp_path)
    common = ["--deployment", str(issued.manifest), "--state", str(state)]
    rwa("distribute", "--period", "1", *common, check=True)
    folder, outbox = tmp_path / "signatures", tmp_path / "outbox.sqlite"
    _refused(state, "oracle", "sign", "--period", "1", "--amend", "--dev-key", "0", "--simulate", "--out",
             str(folder), *common, match="period 1 is distributed", untouched=[folder])
    _refused(state, "oracle", "amend", "--period", "1", "--simulate", "--seed", "3", "--outbox", str(outbox),
             *common, match="period 1 is distributed", untouched=[outbox])


def test_claim_refuses_a_holder_failing_its_checksum(issued: Issued) -> None:
    holder = issued.holder
    flipped = holder[:-1] + (holder[-1].lower() if holder[-1].isupper() else holder[-1].upper())
    if flipped == holder:  # the last character is a digit: flip the case of the last letter instead
        i = max(i for i, c in enumerate(holder) if c.isalpha() and i > 1)
        flipped = holder[:i] + holder[i].swapcase() + holder[i + 1 :]
    common = ["--deployment", str(issued.manifest), "--state", str(issued.state)]
    _refused(issued.state, "claim", "--holder", flipped, *common, match="EIP-55")
    before = _head(issued.state)
    done = rwa("claim", "--holder", holder.lower(), *common)  # all lowercase carries no checksum: accepted
    assert done.returncode == 0, done.stderr
    assert _head(issued.state) == before  # nothing is claimable before period 1 is distributed


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--date", "next tuesday"), "--date 'next tuesday': not a date"),
        (("--date", "2026-02-30"), "--date '2026-02-30': not a date"),
        (("--rate", "-1"), "--rate '-1': must be a finite rate of 0% or more"),
        (("--rate", "nine"), "--rate 'nine': not a number"),
        (("--rate", "inf"), "--rate 'inf': must be a finite rate"),
        (("--tranche", "mezzanine"), "--tranche 'mezzanine': one of senior, junior"),
        (("--date", "9999-12-31T23:59:59-05:00"), "outside the calendar (years 1 to 9999)"),
        (("--date", "0001-01-01T00:00:00+05:00"), "outside the calendar (years 1 to 9999)"),
        (("--rate", "1e999999999"), "--rate '1e999999999': must be at most 10,000% a year"),
    ],
    ids=["date-words", "date-impossible", "rate-negative", "rate-word", "rate-infinite", "tranche-unknown",
         "date-past-the-last-day", "date-before-the-first-day", "rate-huge"],
)
def test_value_refuses_a_bad_date_rate_or_tranche(issued: Issued, args: tuple[str, ...], match: str) -> None:
    _refused(issued.state, "value", *args, "--deployment", str(issued.manifest), "--state", str(issued.state),
             match=match)


# -- options and files refused before anything runs: one table --------------------------------------------------

_DEAL = ["--deployment", "{manifest}", "--state", "{state}"]


@pytest.mark.parametrize(
    ("args", "env", "match"),
    [
        (["oracle", "publish", "--simulate", "--seed", "-1", *_DEAL], {}, "Invalid value for '--seed'"),
        (["size", "--deal", "{deal}", "--seed", "-1"], {}, "Invalid value for '--seed'"),
        (["demo", "--seed", "-1", "--out", "{tmp}/demo"], {}, "Invalid value for '--seed'"),
        (["oracle", "status", "--outbox", "{tmp}", *_DEAL], {}, "--outbox {tmp}: is a folder"),
        (["oracle", "status", "--outbox", "{garbage}", *_DEAL], {}, "not a SQLite file"),
        (["oracle", "publish", "--simulate", "--outbox", "{garbage}", *_DEAL], {}, "not a SQLite file"),
        (["oracle", "status", "--outbox", "{foreign}", *_DEAL], {}, "not an oracle outbox"),
        (["oracle", "status", "--outbox", "{state_copy}", *_DEAL], {}, "not an oracle outbox"),
        (["oracle", "publish", "--simulate", "--outbox", "{foreign}", *_DEAL], {}, "not an oracle outbox"),
        (["oracle", "status", *_DEAL], {"RWA_RETRY_ATTEMPTS": "abc"}, "RWA_RETRY_ATTEMPTS='abc': not a whole"),
        (["oracle", "status", *_DEAL], {"RWA_RETRY_BASE_DELAY": "-1"}, "RWA_RETRY_BASE_DELAY='-1': must be"),
        (["status", *_DEAL], {"RWA_STATE_LOCK_TIMEOUT": "soon"}, "RWA_STATE_LOCK_TIMEOUT='soon': not a number"),
        (["oracle", "publish", "--simulate", "--retry-delay", "-1", *_DEAL], {}, "--retry-delay -1.0: must be"),
        (["oracle", "publish", "--simulate", "--retries", "0", *_DEAL], {}, "--retries 0: must be 1 or more"),
        (["issue", "--deal", "{deal}", "--out", "{file}/deployment.json", "--state", "{state}"], {},
         "is a file, not a folder"),
        (["oracle", "sign", "--period", "1", "--dev-key", "0", "--simulate", "--out", "{file}/sigs", *_DEAL], {},
         "is a file, not a folder"),
        (["oracle", "sign", "--period", "1", "--dev-key", "0", "--simulate", "--out", "{file}", *_DEAL], {},
         "is a file; give a folder"),
        (["demo", "--out", "{file}/demo"], {}, "is a file, not a folder"),
        (["demo", "--out", "{chain_folder}"], {}, "holds chain.sqlite, not written by a demo"),
        (["oracle", "sign", "--period", "41", "--dev-key", "0", "--simulate", "--out", "{tmp}/sigs", *_DEAL], {},
         "--period 41: it has not ended"),
        (["status", "--deployment", "{stablecoin_as_pool}", "--state", "{state}"], {}, "is not a pool"),
        (["distribute", "--period", "1", "--deployment", "{stablecoin_as_pool}", "--state", "{state}"], {},
         "is not a pool"),
        (["trade", "quote", "--tranche", "senior", "--amount", "1000000000000000000000", *_DEAL], {},
         "a price is for 1 to"),
    ],
    ids=["seed-publish", "seed-size", "seed-demo", "outbox-folder", "outbox-garbage", "outbox-garbage-publish",
         "outbox-foreign-sqlite", "outbox-chain-state", "outbox-foreign-publish", "retry-attempts-word",
         "retry-delay-env-negative", "lock-timeout-word", "retry-delay-negative", "retries-zero",
         "issue-out-under-a-file", "sign-out-under-a-file", "sign-out-a-file", "demo-out-under-a-file",
         "demo-out-a-chain-folder", "sign-40-periods-ahead", "status-stablecoin-as-pool",
         "distribute-stablecoin-as-pool", "quote-more-than-the-supply"],
)
def test_refused_before_anything_runs(issued: Issued, tmp_path: Path, args: list[str], env: dict[str, str],
                                      match: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\x00\xffnot sqlite" * 10)
    foreign = tmp_path / "app.db"
    _foreign_sqlite(foreign)
    state_copy = tmp_path / "state-copy.sqlite"
    shutil.copyfile(issued.state, state_copy)
    chain_folder = tmp_path / "my-chain"  # a user's folder: its chain must survive a demo pointed at it
    chain_folder.mkdir()
    shutil.copyfile(issued.state, chain_folder / "chain.sqlite")
    manifest = json.loads(issued.manifest.read_text(encoding="utf-8"))
    manifest["contracts"]["pool"] = manifest["contracts"]["stablecoin"]
    stablecoin_as_pool = tmp_path / "stablecoin-as-pool.json"
    stablecoin_as_pool.write_text(json.dumps(manifest), encoding="utf-8")
    names = {"state": issued.state, "manifest": issued.manifest, "deal": issued.deal, "tmp": tmp_path,
             "file": a_file, "garbage": garbage, "foreign": foreign, "state_copy": state_copy,
             "chain_folder": chain_folder, "stablecoin_as_pool": stablecoin_as_pool}
    filled = [a.format(**names) for a in args]
    untouched = [tmp_path, a_file, garbage, foreign, state_copy, chain_folder / "chain.sqlite", chain_folder]
    _refused(issued.state, *filled, env=env, match=match.format(**names), untouched=untouched)


# -- the state file and keys ------------------------------------------------------------------------------------


def _foreign_sqlite(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes(body) VALUES ('another app')")
    db.commit()
    db.close()
    return path.read_bytes()


def test_a_foreign_garbage_or_folder_state_is_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "app.db"
    foreign_bytes = _foreign_sqlite(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all\n" * 10)
    folder = tmp_path / "folder"
    folder.mkdir()
    for state, match in ((foreign, "no meta/kv tables"), (garbage, "not a SQLite file"), (folder, "is a folder")):
        _refused(None, "chain", "info", "--state", str(state), match=match)
        _refused(None, "chain", "reset", "--yes", "--state", str(state), match=match)
        assert state.exists()
    assert foreign.read_bytes() == foreign_bytes
    assert garbage.read_bytes() == b"not a database at all\n" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "folder", "garbage.sqlite"]


def test_chain_reset_deletes_a_real_state_file_unless_it_is_in_use(tmp_path: Path) -> None:
    state = tmp_path / "chain.sqlite"
    with connect(state=state):
        _refused(None, "chain", "reset", "--yes", "--state", str(state), match="in use by another process")
        assert state.exists()
    done = rwa("chain", "reset", "--yes", "--state", str(state), check=True)
    assert "deleted" in done.stdout and not state.exists()


def test_a_keystore_that_is_a_folder_or_garbage_is_one_line(anvil: AnvilNode, tmp_path: Path) -> None:
    garbage = tmp_path / "key.json"
    garbage.write_bytes(b"\x89garbage")
    for keystore in (tmp_path, garbage):
        env = {"RWA_KEYSTORE": str(keystore), "RWA_KEYSTORE_PASSWORD": "x", "RWA_PRIVATE_KEYS": ""}
        _refused(None, "chain", "info", "--rpc-url", anvil.url, env=env, match=f"keystore {keystore}")
