#!/usr/bin/env python3
"""The auditor's replay: `python scripts/replay.py --deployment FILE [--rpc-url URL] --out DIR [--db FILE]
[--confirmations N]`.

The same command as `rwa replay`: reads every event of the deployment into a SQLite ledger (incrementally),
recomputes every payment from the deal file, the oracle reports and the deposits, reconciles it with the chain to
the unit and writes summary.json, periods.csv, holders.csv, findings.json and report.html. Exit code 0 when the
history reconciles, 1 when there is any finding, 2 on bad input.
"""

from rwa.cli import main

if __name__ == "__main__":
    main("replay", prog_name="python scripts/replay.py")
