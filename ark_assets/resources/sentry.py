"""Failure alerts to Sentry, scrubbed of tokens, passwords and DSNs before they leave the process.

The SDK is process-global: the resource initialises it once per process (again only if the
configuration differs) and tags each event on a scope of its own, so concurrent steps' tags
never mix. With no DSN the resource is off and every method is a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import sentry_sdk
from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import ConfigDict, Field, field_validator
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint
from sentry_sdk.utils import BadDsn, Dsn

from ark_assets.core.redact import redact
from ark_assets.resources.env import configured
from ark_assets.settings import default_of, settings

Level = Literal["fatal", "error", "warning", "info", "debug"]

_INIT_LOCK = threading.Lock()
# The client this module initialised and the options it was given. Compared by identity, so a
# client someone else installed (or a test's reset) is replaced, never silently reused.
_initialised: tuple[object, dict[str, Any]] | None = None


def scrub_event(event: Event, hint: Hint) -> Event:
    """`before_send`: the whole event -- messages, exception values, extra, contexts, request data,
    breadcrumbs, stack-frame variables -- through `redact`."""
    return redact(event)


def scrub_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb:
    """`before_breadcrumb`: scrub when recorded too, so a secret never even sits in the scope."""
    return redact(crumb)


class SentryResource(ConfigurableResource):
    """Captures job failures and alerts, tagged with tenant, media, agent, date and run id."""

    # a refused DSN must not be echoed in the validation error (it holds the project's key)
    model_config = ConfigDict(hide_input_in_errors=True)

    dsn: str = Field(default="", description="the project's DSN; empty turns Sentry off")
    environment: str = default_of("sentry_environment")
    release: str | None = None
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0, description="share of error events sent")
    flush_timeout_s: float = Field(
        default=2.0, gt=0.0, description="how long flush and process exit wait for pending events"
    )

    # Checked when built and again when Dagster resolves the EnvVar; the DSN holds the project's
    # key, so the message never repeats it.
    @field_validator("dsn", mode="before")
    @classmethod
    def _a_dsn(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, EnvVar) and value:
            try:
                Dsn(value)
            except BadDsn as exc:
                raise ValueError(
                    f"the Sentry DSN (ARK_SENTRY_DSN) is not a DSN ({exc}): expected "
                    f"http(s)://<public key>@<host>/<project id>, or empty to turn Sentry off"
                ) from None
        return value

    def setup_for_execution(self, context: InitResourceContext) -> None:
        if self.dsn:
            self._ensure_sdk()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.flush()

    def capture_failure(
        self,
        exc: BaseException,
        *,
        tenant: str,
        media: str,
        agent_id: int | str | None = None,
        data_date: str | None = None,
        run_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Send `exc` (with its traceback and frame variables, scrubbed) as an error event.

        Returns:
            the Sentry event id, or None when Sentry is off or the event was sampled out.
        """
        if not self.dsn:
            return None
        with self._scope(tenant, media, agent_id, data_date, run_id, extra):
            return sentry_sdk.capture_exception(exc)

    def capture_message(
        self,
        message: str,
        *,
        tenant: str,
        media: str,
        level: Level = "warning",
        agent_id: int | str | None = None,
        data_date: str | None = None,
        run_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Send an alert that is not an exception, such as "empty source list" for a daily job.

        Returns:
            the Sentry event id, or None when Sentry is off or the event was sampled out.
        """
        if not self.dsn:
            return None
        with self._scope(tenant, media, agent_id, data_date, run_id, extra):
            return sentry_sdk.capture_message(message, level=level)

    def flush(self) -> None:
        """Wait up to `flush_timeout_s` for queued events to be sent."""
        if self.dsn:
            sentry_sdk.flush(timeout=self.flush_timeout_s)

    @contextmanager
    def _scope(
        self,
        tenant: str,
        media: str,
        agent_id: int | str | None,
        data_date: str | None,
        run_id: str | None,
        extra: Mapping[str, Any] | None,
    ) -> Iterator[None]:
        self._ensure_sdk()
        tags = {"tenant": tenant, "media": str(media), "agent": agent_id, "date": data_date, "run_id": run_id}
        with sentry_sdk.new_scope() as scope:
            for key, value in tags.items():
                if value is not None:
                    scope.set_tag(key, str(value))
            for key, value in (extra or {}).items():
                scope.set_extra(key, value)
            yield

    def _ensure_sdk(self) -> None:
        """Initialise the SDK unless it already runs with this configuration and our scrubbers."""
        wanted = {
            "dsn": self.dsn,
            "environment": self.environment,
            "release": self.release,
            "sample_rate": self.sample_rate,
            "shutdown_timeout": self.flush_timeout_s,
            "before_send": scrub_event,
            "before_breadcrumb": scrub_breadcrumb,
        }
        global _initialised
        with _INIT_LOCK:
            if _initialised == (sentry_sdk.get_client(), wanted):
                return
            # send_default_pii is left unset on purpose: sentry-sdk 2.75 deprecates it (a warning on
            # every init), unset means False, and unlike `data_collection` it keeps the SDK's own
            # EventScrubber on as a second net behind ours.
            sentry_sdk.init(
                **wanted,
                # Alerts are explicit (capture_failure / capture_message): log records become
                # breadcrumbs, never events, or every Kafka reconnect ERROR would page someone.
                integrations=[LoggingIntegration(event_level=None)],
            )
            _initialised = (sentry_sdk.get_client(), wanted)


def sentry_resource_from_env() -> SentryResource:
    """The resource configured by ARK_SENTRY_DSN (secret, resolved at run time) and ARK_SENTRY_ENVIRONMENT."""
    s = settings()
    return SentryResource(dsn=configured(s, "sentry_dsn"), environment=configured(s, "sentry_environment"))


def close_sdk(timeout_s: float = 2.0) -> None:
    """Flush and switch off the process-wide SDK (tests, and processes that outlive a run)."""
    global _initialised
    with _INIT_LOCK:
        client = sentry_sdk.get_global_scope().client
        if client.is_active():
            client.close(timeout=timeout_s)
        sentry_sdk.get_global_scope().set_client(None)
        _initialised = None
