"""The settings object: one declaration per variable, the README's table, validation at load
(every bad variable in one error, secrets never repeated) and production mode (no simulator or
loopback default; one error naming everything missing). Fast: no service is touched."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest
from dagster import EnvVar

from ark_assets.media.registry import all_media
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.mysql import mysql_resource_from_env
from ark_assets.resources.redis_store import redis_resource_from_env
from ark_assets.settings import SettingsError, load_settings, media_settings, platform_from, settings
from ark_assets.settings.readme import README, declared, with_table

PRODUCT = Path(__file__).resolve().parents[1] / "ark_assets"
SECRETS = {"ARK_MYSQL_PASSWORD": "hunter2-pw", "ARK_GDT_APP_SECRET": "gdt-live-secret"}
# what production must set: the services' addresses and credentials, each media's URL and app
REQUIRED_SERVICES = [
    "ARK_REDIS_HOST",
    "ARK_MYSQL_HOST",
    "ARK_MYSQL_USER",
    "ARK_MYSQL_PASSWORD",
    "ARK_HBASE_HOST",
    "ARK_KAFKA_BOOTSTRAP",
]
REQUIRED_PER_MEDIA = ["BASE_URL", "APP_ID", "APP_SECRET"]
# with the bulk paths on, the media whose default API version downloads report files (Tencent's
# async report files come from another host than its API: dl.e.qq.com)
REQUIRED_DOWNLOADS = ["ARK_GDT_DOWNLOAD_URL", "ARK_WX_DOWNLOAD_URL"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ARK_* variable of this process (CI sets some) leaks into a test of the defaults."""
    for name in list(os.environ):
        if name.startswith("ARK_") and not name.startswith(("ARK_STACK_", "ARK_JAVA_")):
            monkeypatch.delenv(name)
    return monkeypatch


def _required() -> list[str]:
    media = [f"ARK_{m.name.upper()}_{field}" for m in all_media() for field in REQUIRED_PER_MEDIA]
    return REQUIRED_SERVICES + media + REQUIRED_DOWNLOADS


def _production(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """ARK_ENV=production with every required variable set (loopback values: nothing is called)."""
    values = {name: f"value-of-{name.lower()}" for name in _required()}
    values |= {"ARK_REDIS_HOST": "127.0.0.1", "ARK_MYSQL_HOST": "127.0.0.1", "ARK_HBASE_HOST": "127.0.0.1"}
    values |= {"ARK_KAFKA_BOOTSTRAP": "127.0.0.1:9092"}
    values |= {f"ARK_{m.name.upper()}_BASE_URL": f"http://127.0.0.1:9/{m.name}" for m in all_media()}
    values |= {name: "http://127.0.0.1:9/files" for name in REQUIRED_DOWNLOADS}
    values |= {"ARK_ENV": "production"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_the_readme_table_is_rendered_from_the_declarations() -> None:
    readme = README.read_text(encoding="utf-8")
    assert with_table(readme) == readme, "run `python -m ark_assets.settings.readme` and commit README.md"
    table = readme.split("<!-- settings:begin -->")[1].split("<!-- settings:end -->")[0]
    in_table = re.findall(r"^\| `([A-Z_<>]+)` \|", table, flags=re.MULTILINE)
    assert in_table == [name for name, _ in declared()]  # every variable, each once, and no other


def test_every_variable_the_product_names_is_declared() -> None:
    names = {name for name, _ in declared()}
    media = [m.name.upper() for m in all_media()]
    known = names | {n.replace("<MEDIA>", m) for n in names for m in media}
    undeclared = set()
    for path in PRODUCT.rglob("*.py"):
        for token in re.findall(r"\bARK_[A-Z0-9_]*[A-Z0-9]\b(?![_{<*])", path.read_text(encoding="utf-8")):
            if token not in known:
                undeclared.add(f"{path.relative_to(PRODUCT)}: {token}")
    assert not undeclared


def test_no_module_but_the_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(PRODUCT))
        for path in PRODUCT.rglob("*.py")
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
    ]
    assert readers == ["settings/load.py"]


def test_the_development_defaults_are_the_local_stack_and_the_simulator(clean_env) -> None:
    s = settings()
    assert (s.env, s.redis_host, s.redis_port, s.redis_db) == ("development", "127.0.0.1", 6379, 2)
    assert (s.mysql_user, s.mysql_password.get_secret_value(), s.mysql_log_db) == ("ark", "ark", "nyfz")
    assert (s.hbase_port, s.hbase_admin_port, s.kafka_bootstrap) == (9090, 9091, "127.0.0.1:9092")
    assert (s.output, s.executor, s.step_start, s.partitions_start) == (
        "HBASE",
        "multiprocess",
        "forkserver",
        "2026-11-01",
    )
    assert (s.sensor_interval_s, s.token_health_interval_s, s.celery_visibility_timeout_s) == (60, 600, 3600)
    assert (s.bulk_reports, s.activity_first, s.async_task_cooldown_s, s.tasks_ahead_interval_s) == (
        True,
        True,
        None,  # None: the media's declared cooldown
        30,
    )
    for media in all_media():
        own = media_settings(media.name)
        assert own.base_url == f"http://127.0.0.1:8600/{media.name}"  # the simulator
        assert (own.app_id, own.app_secret.get_secret_value()) == (media.app.app_id, media.app.secret)
        assert own.drift_policy == "store_all" and own.incr_min is None  # None: the declaration's
    redis = redis_resource_from_env()
    assert (redis.host, redis.port, redis.password) == ("127.0.0.1", 6379, "")


def test_a_set_variable_reaches_the_resource_as_an_env_var(clean_env) -> None:
    clean_env.setenv("ARK_MYSQL_PASSWORD", "hunter2-pw")
    clean_env.setenv("ARK_MYSQL_PORT", "3307")
    mysql = mysql_resource_from_env()
    assert mysql.password == EnvVar("ARK_MYSQL_PASSWORD")  # resolved at run time: never in run config
    assert mysql.port == EnvVar.int("ARK_MYSQL_PORT") and mysql.user == "ark"


def test_bad_values_fail_together_naming_each_and_no_secret(clean_env) -> None:
    clean_env.setenv("ARK_REDIS_PORT", "63 79")
    clean_env.setenv("ARK_WX_DRIFT_POLICY", "block")
    clean_env.setenv("ARK_VOLUME_BLOCKING", "maybe")
    clean_env.setenv("ARK_SENTRY_DSN", "sentry-key-3c1d@127.0.0.1/1")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("4 problems with the settings")
    assert "ARK_REDIS_PORT='63 79': expected a port number" in message
    assert "ARK_WX_DRIFT_POLICY='block': expected one of store_all, declared_only, fail" in message
    assert "ARK_VOLUME_BLOCKING='maybe': expected 1 / true / yes or 0 / false / no" in message
    assert "ARK_SENTRY_DSN: expected http(s)://" in message and "sentry-key-3c1d" not in message


def test_an_api_version_a_media_lacks_fails_naming_its_variable(clean_env) -> None:
    media = all_media()[0]
    clean_env.setenv(f"ARK_{media.name.upper()}_API_VERSION", "v9.9")
    with pytest.raises(SettingsError, match=rf"ARK_{media.name.upper()}_API_VERSION='v9.9'"):
        load_settings()
    clean_env.delenv(f"ARK_{media.name.upper()}_API_VERSION")
    clean_env.setenv("ARK_API_VERSIONS", "v9.9")
    with pytest.raises(SettingsError, match=r"ARK_API_VERSIONS='v9.9'"):
        load_settings()


def test_an_unknown_env_is_refused(clean_env) -> None:
    clean_env.setenv("ARK_ENV", "prod")
    with pytest.raises(SettingsError, match="ARK_ENV='prod': expected development or production"):
        settings()


def test_production_names_every_missing_variable_in_one_error_and_no_value(clean_env) -> None:
    clean_env.setenv("ARK_ENV", "production")
    for name, value in SECRETS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("ARK_WX_BASE_URL", "http://127.0.0.1:9/wx")
    with pytest.raises(SettingsError) as raised:
        settings()
    message = str(raised.value)
    missing = message.split(": ", 1)[1].split(", ")
    assert missing == [n for n in _required() if n not in {*SECRETS, "ARK_WX_BASE_URL"}]
    assert not any(value in message for value in [*SECRETS.values(), "127.0.0.1:9"])


def test_in_production_bad_and_missing_variables_are_one_error(clean_env) -> None:
    clean_env.setenv("ARK_ENV", "production")
    clean_env.setenv("ARK_REDIS_PORT", "redis")
    with pytest.raises(SettingsError) as raised:
        settings()
    problems = str(raised.value).splitlines()
    assert problems[0] == "2 problems with the settings:"
    assert problems[1] == "  - ARK_REDIS_PORT='redis': expected a port number"
    assert problems[2].startswith("  - ARK_ENV=production needs these variables set explicitly")
    assert problems[2].endswith(", ".join(_required()))


def test_without_the_bulk_paths_production_needs_no_download_host(clean_env) -> None:
    values = _production(clean_env)
    for name in REQUIRED_DOWNLOADS:
        clean_env.delenv(name)
    with pytest.raises(SettingsError, match=f"set explicitly .*: {', '.join(REQUIRED_DOWNLOADS)}$"):
        settings()
    clean_env.setenv("ARK_BULK_REPORTS", "0")
    assert settings().production and not settings().bulk_reports
    assert media_api_resource_from_env().media["gdt"].base_url == EnvVar("ARK_GDT_BASE_URL")
    assert values["ARK_ENV"] == "production"


def test_production_has_no_simulator_default(clean_env) -> None:
    values = _production(clean_env)
    media = all_media()[0]
    own = media_settings(media.name)
    assert own.base_url == values[f"ARK_{media.name.upper()}_BASE_URL"]
    assert own.app_id != media.app.app_id and own.app_secret.get_secret_value() != media.app.secret
    connection = media_api_resource_from_env().media[media.name]
    assert connection.base_url == EnvVar(f"ARK_{media.name.upper()}_BASE_URL")
    assert connection.app_secret == EnvVar(f"ARK_{media.name.upper()}_APP_SECRET")


def test_the_definitions_load_in_production_with_everything_set(clean_env) -> None:
    import ark_assets.definitions as definitions

    _production(clean_env)
    try:
        defs = importlib.reload(definitions).defs
        assert defs.resolve_job_def("all_media_daily").executor_def.name == "multiprocess"
        resources = defs.resources or {}
        assert resources["mysql"].password == EnvVar("ARK_MYSQL_PASSWORD")
        assert {name: c.base_url for name, c in resources["media_api"].media.items()} == {
            m.name: EnvVar(f"ARK_{m.name.upper()}_BASE_URL") for m in all_media()
        }
        clean_env.delenv("ARK_KAFKA_BOOTSTRAP")
        with pytest.raises(SettingsError, match=r"set explicitly .*: ARK_KAFKA_BOOTSTRAP$"):
            importlib.reload(definitions)
    finally:
        clean_env.undo()
        importlib.reload(definitions)  # the module as every other test imports it


def test_a_workers_environment_is_read_alone(clean_env) -> None:
    clean_env.setenv("ARK_STEP_START", "spawn")
    worker = platform_from({"ARK_CELERY_VISIBILITY_TIMEOUT_S": "1200", "ARK_REDIS_DB": ""})
    assert (worker.celery_visibility_timeout_s, worker.step_start, worker.redis_db) == (1200, "forkserver", 2)
    with pytest.raises(SettingsError, match="ARK_CELERY_VISIBILITY_TIMEOUT_S='0'"):
        platform_from({"ARK_CELERY_VISIBILITY_TIMEOUT_S": "0"})
