"""Which executor runs the steps of every job, chosen by configuration (`ARK_EXECUTOR`), never by code edits.

- unset or `multiprocess`: Dagster's multiprocess executor (each step a process of the run's
  host) -- dev, the demo, a single host. A partition is one step per media (assets/media_step.py),
  so steps are few and long: they start from a forkserver that has imported the platform once
  (`preload_modules`), so a step costs a fork, not a Python start-up and every import again
  (`ARK_STEP_START=spawn` starts each step as a fresh interpreter instead), and up to one step
  per media runs at once (`max_concurrent`; they wait on the media, not on the CPU).
- `celery`: dagster-celery's executor. A run submits each step as a Celery task to the broker
  (`ARK_CELERY_BROKER_URL`, a Redis db of its own: never the platform's db, which holds tokens
  and account lists) and waits for its result (`ARK_CELERY_BACKEND_URL`); Celery workers started
  with `dagster-celery worker start -y <worker_config() as YAML>` execute the steps on any host.
  dagster_celery is imported only then, so the base install works without the `production` extra.

The Celery settings both sides share (`celery_config`), and why:
- `task_acks_late`: a step's task is acknowledged when it ends, not when a worker takes it, so a
  worker that dies mid-step (SIGKILL, OOM, a lost host) leaves it unacknowledged and the broker
  hands it to another worker once `visibility_timeout` has passed. That is safe because a step
  is idempotent: it rewrites its partition's rows under the same keys. A step whose *process*
  dies while the worker lives fails instead (Celery's WorkerLostError) and the run fails cleanly:
  a step that kills its process every time must not be redelivered forever.
- `visibility_timeout` (`ARK_CELERY_VISIBILITY_TIMEOUT_S`, default 3600 s): how long a taken task
  may stay unacknowledged before it is redelivered. It must be longer than the longest step
  (docs/CAPACITY.md: a Tencent step that makes its agencies' six async report tasks itself waits
  out five 5-minute cooldowns, ~26 min), or a slow step would run twice at once. Workers look
  for such tasks every 10 s, so a lost worker's step resumes about visibility_timeout + 10 s
  after it was taken.
- dagster-celery's own defaults otherwise (one task prefetched per worker process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from dagster import ExecutorDefinition, multiprocess_executor

from ark_assets.media.registry import all_media
from ark_assets.settings import PlatformSettings, platform_from, settings

EXECUTOR_VAR = "ARK_EXECUTOR"
# What the forkserver imports once for every step it forks: the definitions (and so Dagster,
# aiohttp, redis, happybase, kafka ...).
PRELOAD = ["ark_assets.definitions"]
BROKER_VAR = "ARK_CELERY_BROKER_URL"
BACKEND_VAR = "ARK_CELERY_BACKEND_URL"
# dagster-celery's broker_transport_options defaults (dagster_celery.defaults), kept beside ours:
# a config_source entry replaces the whole dict.
_TRANSPORT_DEFAULTS = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# variables of another environment (a worker's, `platform_from`), or settings already read
Settings = Mapping[str, str] | PlatformSettings


def executor_from_env() -> ExecutorDefinition:
    """The executor `ARK_EXECUTOR` names (the settings refuse another, naming the variable)."""
    s = settings()
    if s.executor == "multiprocess":
        return multiprocess_executor.configured(multiprocess_config(s), name="multiprocess")
    try:
        from dagster_celery import celery_executor
    except ImportError as exc:
        raise ValueError(
            f"{EXECUTOR_VAR}=celery needs dagster-celery, which is not installed: "
            f"pip install '.[production]' ({exc})"
        ) from None
    return celery_executor.configured(_executor_config(s), name="celery")


def multiprocess_config(environ: Settings | None = None) -> dict[str, Any]:
    """The multiprocess executor's config: how steps start, and one step per media at once."""
    start = _settings(environ).step_start
    method = {"forkserver": {"preload_modules": PRELOAD}} if start == "forkserver" else {"spawn": {}}
    return {"max_concurrent": max(1, len(all_media())), "start_method": method}


def worker_config(environ: Settings | None = None) -> dict[str, Any]:
    """What `dagster-celery worker start -y` reads: the same broker, backend and settings as the runs
    that `environ` (variables of another environment, or settings; default: this process's) configures.

    Broker and backend stay `{env: ...}` references, so the YAML holds no URL (nor its password);
    each worker resolves them from its own environment.
    """
    return {"execution": {"config": _executor_config(_settings(environ))}}


def celery_config(environ: Settings | None = None) -> dict[str, Any]:
    """The Celery settings runs and workers share (see the module docstring for why)."""
    return {
        "task_acks_late": True,
        "broker_transport_options": {
            **_TRANSPORT_DEFAULTS,
            "visibility_timeout": _settings(environ).celery_visibility_timeout_s,
            # look for abandoned tasks every 10 s (kombu scans only every 10th sweep by default)
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        },
    }


def _settings(environ: Settings | None) -> PlatformSettings:
    if environ is None:
        return settings()
    return environ if isinstance(environ, PlatformSettings) else platform_from(environ)


def _executor_config(s: PlatformSettings) -> dict[str, Any]:
    _check_redis_url(BROKER_VAR, s.celery_broker_url.get_secret_value(), s.redis_db)
    _check_redis_url(BACKEND_VAR, s.celery_backend_url.get_secret_value(), s.redis_db)
    return {
        "broker": {"env": BROKER_VAR},
        "backend": {"env": BACKEND_VAR},
        "config_source": celery_config(s),
    }


def _check_redis_url(variable: str, url: str, platform_db: int) -> None:
    """A set Redis URL whose db is not the platform's (`ARK_REDIS_DB`, default 2); errors name no secret."""
    url = url.strip()
    if not url:
        raise ValueError(
            f"{EXECUTOR_VAR}=celery needs {variable}, a Redis URL on a db of its own, "
            f"e.g. redis://127.0.0.1:6379/5"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(
            f"{variable} must be a redis:// or rediss:// URL (the broker is Redis), not {parts.scheme}://"
        )
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise ValueError(
            f"{variable} names Redis db {db_text!r}; expected a number, e.g. redis://host:6379/5"
        )
    if int(db_text) == platform_db:
        raise ValueError(
            f"{variable} points at Redis db {db_text} on {parts.hostname}:{parts.port or 6379}, the "
            f"platform's db (ARK_REDIS_DB: tokens and account lists); use a db of its own, e.g. /5"
        )


if __name__ == "__main__":  # `python -m ark_assets.execution > celery-worker.yaml` on a worker host
    import yaml

    print(yaml.safe_dump(worker_config(), sort_keys=False), end="")
