"""The platform's settings: every `ARK_*` variable that is not a media's, declared once.

Why pydantic-settings (pinned beside the pydantic dagster brings): one declaration per variable
(its name is the field's with the `ARK_` prefix, beside its default, type and description),
typed (the code reads an int, a bool, a choice, never a string to parse again), validated all at
once when the definitions load (one error listing every bad variable, `load.py`), and env-prefixed
without a line of reading code. Wiring `dg.EnvVar`s into resources alone (as dagster-open-platform
does) would validate nothing before a run and leave the sensors', checks' and executor's own
variables scattered. Resources still receive a set variable as an `EnvVar` (`resources/env.py`).
The README's configuration table is rendered from these declarations (`readme.py`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sentry_sdk.utils import BadDsn, Dsn

from ark_assets.settings.fields import var

DEVELOPMENT, PRODUCTION = "development", "production"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FLAG = "1 / true / yes or 0 / false / no"
_CHOICES = ("env", "executor", "step_start", "output")


class PlatformSettings(BaseSettings):
    """Every platform variable (`ARK_<FIELD>`); an empty variable counts as unset."""

    model_config = SettingsConfigDict(env_prefix="ARK_", env_ignore_empty=True, frozen=True)

    env: Literal["development", "production"] = var(
        DEVELOPMENT,
        "`production`: every media endpoint, app and service address must be set (no simulator or "
        "loopback defaults; docs/PRODUCTION.md)",
        expected="development or production",
    )
    # ----- Redis
    redis_host: str = var("127.0.0.1", "Redis host (tokens, account lists)", production=True)
    redis_port: int = var(6379, "Redis port", expected="a port number", ge=1, le=65535)
    redis_db: int = var(2, "Redis db (2 in the seed)", expected="a db number >= 0", ge=0)
    redis_password: SecretStr = var(SecretStr(""), "Redis password", secret=True, shown="empty")
    redis_channel: str = var(
        "",
        "the seed's `redis_channel`: each finished media step publishes a JSON message there "
        '(README "Output modes, HDFS and the announcement"); empty: no announcement',
    )
    # ----- MySQL
    mysql_host: str = var("127.0.0.1", "MySQL host (the `nyfz` logs, `eton` tenants)", production=True)
    mysql_port: int = var(3306, "MySQL port", expected="a port number", ge=1, le=65535)
    mysql_user: str = var("ark", "MySQL user (the stack's)", production=True)
    mysql_password: SecretStr = var(
        SecretStr("ark"), "MySQL password (the stack's)", production=True, secret=True, shown="`ark`"
    )
    mysql_log_db: str = var("nyfz", "the run, request and response log database")
    mysql_eton_db: str = var("eton", "the tenant database")
    # ----- HBase
    hbase_host: str = var("127.0.0.1", "HBase Thrift1 server host", production=True)
    hbase_port: int = var(9090, "HBase Thrift1 port", expected="a port number", ge=1, le=65535)
    hbase_admin_port: int = var(
        9091,
        "HBase Thrift2 port (creates missing tables pre-split)",
        expected="a port number",
        ge=1,
        le=65535,
    )
    hbase_table_prefix: str = var("", "keeps a second table set apart (e.g. `test`)")
    # ----- Kafka
    kafka_bootstrap: str = var("127.0.0.1:9092", "Kafka `host:port[,host:port...]`", production=True)
    kafka_topic_prefix: str = var("", "prefix of the `{media}_api_log` topics")
    kafka_spool_dir: str = var(".stack/spool/kafka", "where events wait while Kafka is unreachable")
    # ----- Sentry
    sentry_dsn: SecretStr = var(
        SecretStr(""),
        "the Sentry DSN; empty: Sentry off",
        expected="http(s)://<public key>@<host>/<project id>, or empty to turn Sentry off",
        secret=True,
        shown="empty",
    )
    sentry_environment: str = var("local", "the Sentry environment events are tagged with")
    # ----- media APIs (per media: media.py)
    api_versions: str = var(
        "",
        "every media's API version at once (`current` / `notes` / `default`) where its own "
        "`ARK_<MEDIA>_API_VERSION` is unset",
        shown="`default`",
    )
    fetch_max_in_flight: int = var(
        100, "sources fetched concurrently per endpoint in a media's step", expected="a number >= 1", ge=1
    )
    bulk_reports: bool = var(
        True,
        "the bulk paths: report levels a media offers as agency-level asynchronous tasks are fetched "
        "that way, balances in batches where the media allow; `0` turns them off",
        expected=_FLAG,
    )
    activity_first: bool = var(
        True,
        "reports below the account level and hourly reports only for accounts the media's activity "
        "signal shows active; `0` asks every account",
        expected=_FLAG,
    )
    async_task_cooldown_s: float | None = var(
        None,
        "one async report task per agency this often (match a simulator's shorter one)",
        expected="a number of seconds > 0",
        shown="the media's declared limit",
        gt=0,
    )
    async_task_poll_s: float = var(
        10.0,
        "the first poll of an async task (then twice as late each time, up to a minute)",
        expected="a number of seconds > 0",
        gt=0,
    )
    async_task_wait_s: float = var(
        3600.0,
        "how long an async task may take before its accounts are fetched one by one",
        expected="a number of seconds > 0",
        gt=0,
    )
    # ----- execution
    executor: Literal["multiprocess", "celery"] = var(
        "multiprocess",
        "the executor of every job (`celery`: Celery workers)",
        expected="multiprocess or celery",
    )
    step_start: Literal["forkserver", "spawn"] = var(
        "forkserver",
        "how the multiprocess executor starts a step (`spawn`: a fresh interpreter)",
        expected="forkserver or spawn",
    )
    celery_broker_url: SecretStr = var(
        SecretStr(""),
        "the Celery broker, a Redis URL on a db of its own, never `ARK_REDIS_DB` (required with `celery`)",
        secret=True,
        shown="empty",
    )
    celery_backend_url: SecretStr = var(
        SecretStr(""), "the Celery result backend, like the broker", secret=True, shown="empty"
    )
    celery_visibility_timeout_s: int = var(
        3600,
        "how long a step a lost worker took waits before another worker runs it; above the longest step "
        "(one that makes its agencies' async tasks itself: ~26 min)",
        expected="a whole number of seconds > 0, longer than the longest step",
        gt=0,
    )
    # ----- output
    output: Literal["HBASE", "FILE", "NONE"] = var(
        "HBASE",
        'where rows go: `HBASE` / `FILE` / `NONE` (README "Output modes")',
        expected="HBASE, FILE or NONE",
    )
    output_dir: str = var("", "FILE output's directory", shown="`.stack/output` (`/ark/output` on HDFS)")
    hdfs_url: str = var(
        "", "FILE output on HDFS: the NameNode's WebHDFS `http://host:port`; empty: local disk"
    )
    hdfs_user: str = var("ark", "the HDFS user FILE output writes as")
    # ----- checks
    compare_table_prefix: str = var(
        "", "`matches_comparison_table` checks against `{prefix}_{table}`; empty: no comparison check"
    )
    completeness_blocking: bool = var(
        False,
        "a partition with failed accounts fails its run (a blocking `completeness` check)",
        expected=_FLAG,
    )
    volume_trailing_days: int = var(
        7,
        "the `volume` check compares a partition with the tenant's last N days",
        expected="a whole number of days >= 1",
        ge=1,
    )
    volume_min_ratio: float = var(
        0.5,
        "the `volume` check warns below this share of the trailing days' median (or at 0 rows)",
        expected="a fraction between 0 and 1, e.g. 0.5",
        ge=0,
        le=1,
    )
    volume_blocking: bool = var(
        False, "the `volume` check is blocking: a collapsed day fails its run", expected=_FLAG
    )
    # ----- automation
    sensor_interval_s: int = var(
        60,
        "minimum interval of `tenants_and_agents_sync` and `account_lists_arrived`; the run-status "
        "sensors tick at most every 30 s",
        expected="a whole number of seconds >= 1",
        ge=1,
    )
    token_warn_days: float = var(
        7,
        "the `token_health` sensor warns this many days before a refresh token dies",
        expected="a number of days >= 0, e.g. 7",
        ge=0,
    )
    tasks_ahead_interval_s: int = var(
        30, "how often the `async_tasks_ahead` sensor ticks", expected="a whole number of seconds >= 1", ge=1
    )
    token_health_interval_s: int = var(
        600, "how often the `token_health` sensor looks", expected="a whole number of seconds >= 1", ge=1
    )
    partitions_start: str = var(
        "2026-11-01",
        "the first partition day: set it to the first day you fetch or backfill (a recent default keeps "
        "the UI from showing years of empty days)",
        expected="YYYY-MM-DD, e.g. 2026-11-01",
    )
    # ----- the catalog
    code_git_url: str = var("", "the catalog's code references link to the files in this git repository")
    code_git_branch: str = var("main", "the branch of `ARK_CODE_GIT_URL`")
    # ----- Dagster's own
    dagster_home: str = var(
        "",
        "Dagster's instance directory; `ark-assets rerun-failed` and `backfill` need it",
        shown="unset",
        validation_alias="DAGSTER_HOME",
    )

    @field_validator(*_CHOICES, mode="before")
    @classmethod
    def _choice(cls, value: object, info) -> object:  # noqa: ANN001 -- pydantic's ValidationInfo
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "output" else value.strip().lower()

    @field_validator("partitions_start")
    @classmethod
    def _a_day(cls, value: str) -> str:
        value = value.strip()
        if not _DAY.fullmatch(value):
            raise ValueError("not YYYY-MM-DD")
        date.fromisoformat(value)  # a ValueError for 2025-02-30
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _a_dsn(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            try:
                Dsn(value.get_secret_value())
            except BadDsn:
                raise ValueError("not a DSN") from None  # the DSN holds the project's key: not repeated
        return value

    @property
    def production(self) -> bool:
        return self.env == PRODUCTION
