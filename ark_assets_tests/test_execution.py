"""The executor is chosen by configuration: `ARK_EXECUTOR` picks it, a wrong value says how to fix it.

- unset / `multiprocess`: Dagster's multiprocess executor, its steps forked from a forkserver that
  preloaded the definitions (`ARK_STEP_START=spawn`: fresh interpreters), one step per media at
  once; `celery`: dagster-celery's, configured from
  `ARK_CELERY_BROKER_URL` / `ARK_CELERY_BACKEND_URL` (a Redis db that is not the platform's);
- the definitions every job runs with (the UI's asset job included) carry that executor;
- errors name the variable and the accepted values, and never a URL's password.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from ark_assets.execution import PRELOAD, executor_from_env, multiprocess_config, worker_config
from ark_assets.media.registry import all_media

BROKER = "redis://127.0.0.1:6379/5"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    for name in (
        "ARK_EXECUTOR",
        "ARK_STEP_START",
        "ARK_CELERY_BROKER_URL",
        "ARK_CELERY_BACKEND_URL",
        "ARK_REDIS_DB",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ARK_CELERY_VISIBILITY_TIMEOUT_S", raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.mark.parametrize(
    "values",
    [
        {},  # unset: Dagster's default
        {"ARK_EXECUTOR": "multiprocess"},
        {"ARK_EXECUTOR": " Multiprocess "},  # case and blanks do not matter
    ],
)
def test_the_default_is_the_multiprocess_executor_forking_preloaded_steps(
    env, values: dict[str, str]
) -> None:
    env(**values)
    executor = executor_from_env()
    assert executor.name == "multiprocess"
    assert multiprocess_config({}) == {
        "max_concurrent": len(all_media()),  # a step per media, all at once
        "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }


def test_the_forkserver_preloads_what_every_step_imports() -> None:
    # A fresh interpreter that imports the preloaded modules (what the forkserver does once) holds
    # the definitions and the libraries a step uses: a forked step imports none of them again.
    needed = ["ark_assets.definitions", "dagster", "aiohttp", "redis", "happybase", "kafka"]
    code = (
        "import importlib, json, sys\n"
        f"for name in {PRELOAD!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {needed!r} if m not in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_steps_can_start_as_fresh_interpreters(env) -> None:
    env(ARK_STEP_START="spawn")
    assert multiprocess_config({"ARK_STEP_START": "spawn"})["start_method"] == {"spawn": {}}
    assert executor_from_env().name == "multiprocess"


def test_celery_is_dagster_celerys_executor_on_the_configured_broker(env) -> None:
    env(ARK_EXECUTOR="celery", ARK_CELERY_BROKER_URL=BROKER, ARK_CELERY_BACKEND_URL=BROKER)
    executor = executor_from_env()
    assert executor.name == "celery"
    config = worker_config()["execution"]["config"]
    # references, not values: the worker YAML and the run config never hold a URL
    assert config["broker"] == {"env": "ARK_CELERY_BROKER_URL"}
    assert config["backend"] == {"env": "ARK_CELERY_BACKEND_URL"}
    assert config["config_source"]["task_acks_late"] is True
    assert config["config_source"]["broker_transport_options"]["visibility_timeout"] == 3600


def test_every_job_runs_with_the_configured_executor(env) -> None:
    env(ARK_EXECUTOR="celery", ARK_CELERY_BROKER_URL=BROKER, ARK_CELERY_BACKEND_URL=BROKER)
    import ark_assets.definitions as definitions

    try:
        defs = importlib.reload(definitions).defs
        jobs = [defs.resolve_job_def(name) for name in ("all_media_daily", "wx_daily", "reports_lookback")]
        jobs.append(defs.resolve_implicit_global_asset_job_def())  # what the UI's "Materialize" launches
        assert {job.executor_def.name for job in jobs} == {"celery"}
    finally:
        env(ARK_EXECUTOR="multiprocess")
        importlib.reload(definitions)  # the module as every other test imports it


@pytest.mark.parametrize(
    ("values", "message"),
    [
        # a typo names the variable and what it accepts
        ({"ARK_EXECUTOR": "k8s"}, "ARK_EXECUTOR='k8s': expected multiprocess or celery"),
        # a step start method the multiprocess executor does not offer
        (
            {"ARK_STEP_START": "fork"},
            "ARK_STEP_START='fork': expected forkserver or spawn",
        ),
        # celery without its broker
        ({"ARK_EXECUTOR": "celery"}, "ARK_EXECUTOR=celery needs ARK_CELERY_BROKER_URL"),
        (
            {"ARK_EXECUTOR": "celery", "ARK_CELERY_BROKER_URL": BROKER},
            "ARK_EXECUTOR=celery needs ARK_CELERY_BACKEND_URL",
        ),
        # the platform's own Redis db (tokens, account lists) is refused, its password not repeated
        (
            {
                "ARK_EXECUTOR": "celery",
                "ARK_CELERY_BROKER_URL": "redis://:s3cret-pw@127.0.0.1:6379/2",
                "ARK_CELERY_BACKEND_URL": BROKER,
            },
            "ARK_CELERY_BROKER_URL points at Redis db 2 on 127.0.0.1:6379, the platform's db",
        ),
        # ... and so is whatever db ARK_REDIS_DB makes the platform's
        (
            {
                "ARK_EXECUTOR": "celery",
                "ARK_REDIS_DB": "5",
                "ARK_CELERY_BROKER_URL": BROKER,
                "ARK_CELERY_BACKEND_URL": BROKER,
            },
            "points at Redis db 5",
        ),
        # not Redis
        (
            {
                "ARK_EXECUTOR": "celery",
                "ARK_CELERY_BROKER_URL": "amqp://guest@mq//",
                "ARK_CELERY_BACKEND_URL": BROKER,
            },
            "ARK_CELERY_BROKER_URL must be a redis:// or rediss:// URL",
        ),
        # a visibility timeout that is not a positive number of seconds
        (
            {
                "ARK_EXECUTOR": "celery",
                "ARK_CELERY_BROKER_URL": BROKER,
                "ARK_CELERY_BACKEND_URL": BROKER,
                "ARK_CELERY_VISIBILITY_TIMEOUT_S": "0",
            },
            "ARK_CELERY_VISIBILITY_TIMEOUT_S='0': expected a whole number of seconds > 0",
        ),
    ],
)
def test_a_wrong_setting_fails_with_a_message_naming_it(env, values: dict[str, str], message: str) -> None:
    env(**values)
    with pytest.raises(ValueError) as raised:
        executor_from_env()
    assert message in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)
