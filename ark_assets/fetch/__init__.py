"""The quota-aware async fetch engine (no Dagster): sources in, exactly one outcome each out.

`engine.py` (HTTP, retries, paging), `governor.py` (the rate per app and endpoint, shared through
Redis), `tokens.py` (one refresh per agent under a lock), `outcome.py` (sources and outcomes).
"""
