"""Shared basics every layer may use: ids, days, tiers, table names, the row key, redaction.

Leaf of the import graph: nothing here imports another Ark module outside `core`, Dagster, or
any client library, so a rule written here is written once for the whole platform.
"""
