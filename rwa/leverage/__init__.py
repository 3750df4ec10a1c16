"""The leverage calculator: how much senior and junior a deal's cash flow supports, and how it fares under stress."""
