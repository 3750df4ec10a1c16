#!/usr/bin/env python3
"""Issue a deal: `python scripts/issue.py --deal FILE [--rpc-url URL] [--out deployment.json] [--dry-run]`.

The same command as `rwa issue`: validates and sizes the deal, prints the plan, deploys the registry, oracle,
tranche tokens and pool (and the test stablecoin on a local chain), allows and mints the investors, and writes the
deployment manifest atomically. Re-running resumes an interrupted issuance and refuses to issue the deal twice.
"""

from rwa.cli.main import main

if __name__ == "__main__":
    main("issue", prog_name="python scripts/issue.py")
