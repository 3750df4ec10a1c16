"""Issuance and monthly operation of a deal: deploy, allow and mint investors, deposit, distribute, claim."""
