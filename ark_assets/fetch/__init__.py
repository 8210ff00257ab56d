"""The quota-aware async fetch engine (no Dagster): sources in, exactly one outcome each out.

`engine.py` ties the parts together (see its docstring): `stream.py`, `source.py`, `paging.py`,
`call.py`, `hedge.py`, `latency.py`, `governor.py` (the rate per app and endpoint, shared through
Redis), `tokens.py`, `exhaustion.py`, `report.py`, `summary.py` (the one summary of a fetch),
`outcome.py` (sources and outcomes), `settings.py`.
"""
