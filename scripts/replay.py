#!/usr/bin/env python3
"""The auditor's replay: `python scripts/replay.py --deployment FILE [--rpc-url URL] --out DIR [--db FILE]
[--confirmations N]`.

The same command as `rwa replay`: reads every event of the deployment (from the contracts the pool links to) into a
SQLite ledger bound to the chain's history, recomputes every payment from the deal file, the oracle reports and the
deposits, audits who acted (the oracle's quorum, roles, the agent), and writes summary.json, periods.csv,
holders.csv, findings.json/.csv, disclosures.json/.csv and report.html as one set. Exit code 0 reconciled
(disclosures listed), 1 findings, 2 bad input, 3 the replay could not finish (re-run).
"""

from rwa.cli.main import main

if __name__ == "__main__":
    main("replay", prog_name="python scripts/replay.py")
