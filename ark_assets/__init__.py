"""Ark Assets: a Dagster platform for ad-media account, balance and report data.

Layout: `media/` (what differs per media), `resources/` (Redis, HBase, MySQL, Kafka, Sentry),
`rowkey.py` (the HBase row-key design), `stack/` (the local service stack),
`definitions.py` (what Dagster loads, via `workspace.yaml`).
"""
