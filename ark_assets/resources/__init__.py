"""Dagster resources wrapping the platform's backing services, one module each.

- `redis_store`: tokens, agents and account lists (the seed's sorted sets, db 2)
- `hbase`: the data store under the salted row-key design (happybase over Thrift)
- `mysql`: run, request and response logs; the `eton` agents and tenants tables
- `kafka_log`: per-media job log events; `sentry`: failure alerts, scrubbed of secrets
- `run_log`: the three above, nested, as every fetch asset records its run
- `media_api`: where each media's API lives and which app calls it
"""
