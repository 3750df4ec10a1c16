"""The replay's checks, one module per concern; each writes its findings and disclosures into a
:class:`~rwa.replay.findings.Reconciliation` and none imports another (:mod:`rwa.replay.run` runs them in order).

``terms`` the deal file, the pool's terms and both contracts' calendars; ``links`` the contracts the chain links;
``waterfall`` every period recomputed (the long-stop prepayment between periods), and the periods left late;
``reports`` the oracle's reports (conversion, amendments) and the rent collected against them; ``fleet`` the fleet
register against the deal, every delivery within its order, every report and its lease tape against the register as
it stood, every lease change and lessee past due disclosed; ``escrow`` the use of proceeds, the raise to the unit;
``quorum`` the oracle's reporters and threshold over time against every accepted report; ``roles``, ``timelock``,
``acts`` and ``pauses`` the trust model (who holds which role, every privileged change tied to its timelock
operation, the agent's and the registry's acts, a pause the events do not explain); ``tokens`` each tranche's
accumulator, claims and supply; ``money`` every stablecoin unit into and out of the pool and the tokens (the
prepayment's included); ``state`` the contracts' own totals against the events; ``offering`` the offering's book and
money; ``trades`` every settled trade and the holders' realised cash flows.
"""
