"""The environment a bench's Dagster runs read: its simulator, its apps, names of its own only."""

from __future__ import annotations

import os
from pathlib import Path

from ark_sim.process import SimulatorProcess


def platform_env(
    sim: SimulatorProcess,
    *,
    apps: dict[str, tuple[int, str]],
    prefix: str,
    dagster_home: Path,
    workdir: Path,
    log_db: str,
    eton_db: str,
) -> dict[str, str]:
    """`ARK_*` for every resource: the simulator's URLs and `apps` per media, HBase tables and
    Kafka topics under `prefix`, the bench's MySQL databases, the shipped executor."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    env.pop("ARK_EXECUTOR", None)  # the shipped default
    for media, (app_id, secret) in apps.items():
        upper = media.upper()
        env |= {
            f"ARK_{upper}_BASE_URL": sim.url(media),
            f"ARK_{upper}_APP_ID": str(app_id),
            f"ARK_{upper}_APP_SECRET": secret,
        }
    return env | {
        "ARK_HBASE_TABLE_PREFIX": prefix,
        "ARK_KAFKA_TOPIC_PREFIX": f"{prefix}_",
        "ARK_KAFKA_SPOOL_DIR": str(workdir / "kafka-spool"),
        "ARK_MYSQL_LOG_DB": log_db,
        "ARK_MYSQL_ETON_DB": eton_db,
    }
