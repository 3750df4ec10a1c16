"""The auditor's replay: ingest every event of a deployment, rebuild the history, recompute it, reconcile."""
