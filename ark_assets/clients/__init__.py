"""Clients of the backing services that import no Dagster: Redis key formats and sets, the HBase
writer and Thrift2 admin, the Kafka event log and its spool, the MySQL statements.

The fetch engine and the tools use these directly; `resources/` wraps them for Dagster.
"""
