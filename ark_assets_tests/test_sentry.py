"""Contract of the Sentry alerts (`SentryResource`), against a real HTTP envelope sink on loopback.

- with no DSN the resource is off: captures return None, nothing is sent, the SDK is not touched;
- a failure is captured with tags tenant/media/agent/date/run_id, on a scope of its own (tags of
  one capture never leak into the next), and an alert message likewise;
- nothing that leaves the process -- exception value, message, frame variables, extra,
  breadcrumbs -- holds a registered token, a `password=...` value or DSN credentials;
- an unreachable Sentry neither raises nor hangs the caller, and alerts arrive again once it is back.

sentry_sdk is process-global: every test ends by closing the client it caused and restoring a
non-recording one, so no other test (or module) inherits it.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator

import pytest
import sentry_sdk
from dagster import build_resources

from ark_assets.core.redact import REDACTED, remember_secret
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.sentry_sink import SentrySink

PASSWORD = "hunter2-Xq9"
DB_PASSWORD = "dbpass-7Zk"

# ##### FIXTURES


@pytest.fixture(autouse=True)
def restore_sentry() -> Iterator[None]:
    yield
    sentry_sdk.get_client().close(timeout=1)
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture
def sink() -> Iterator[SentrySink]:
    with SentrySink() as running:
        yield running


@pytest.fixture
def token() -> str:
    value = f"tok{uuid.uuid4().hex}"
    remember_secret(value)
    return value


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_mysql_connection(token: str) -> None:
    """Fails the way the seed's eton connection did, with secrets in its locals and its message."""
    access_token = token
    login = f"password={PASSWORD}"
    dsn = f"mysql://ark:{DB_PASSWORD}@127.0.0.1:3306/eton"
    raise ConnectionError(f"could not get a MySQL connection to {dsn}: {login} access_token={access_token}")


# ##### TESTS


def test_without_dsn_every_method_is_a_no_op(sink: SentrySink) -> None:
    with build_resources({"sentry": SentryResource()}) as res:
        assert res.sentry.capture_failure(RuntimeError("boom"), tenant="T100117", media="gdt") is None
        assert res.sentry.capture_message("empty source list", tenant="T100117", media="wx") is None
        assert res.sentry.flush() is None

    assert not sentry_sdk.get_client().is_active()
    assert sink.envelopes == []


def test_failure_is_tagged_and_scrubbed_of_every_secret(sink: SentrySink, token: str) -> None:
    with build_resources({"sentry": SentryResource(dsn=sink.dsn)}) as res:
        # a log record becomes a breadcrumb of the next event
        logging.getLogger("ark_assets.fetch").warning("GET funds/get?access_token=%s&account_id=1", token)
        try:
            get_mysql_connection(token)
        except ConnectionError as exc:
            event_id = res.sentry.capture_failure(
                exc,
                tenant="T100117",
                media="gdt",
                agent_id=1050262,
                data_date="2020-05-10",
                run_id="run-1",
                extra={"token": token, "url": f"https://media.invalid/v1.1/funds/get?access_token={token}"},
            )
        assert not sentry_sdk.get_client().should_send_default_pii()
    [event] = sink.wait_for(1)

    assert event["event_id"] == event_id
    assert event["tags"] == {
        "tenant": "T100117",
        "media": "gdt",
        "agent": "1050262",
        "date": "2020-05-10",
        "run_id": "run-1",
    }
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ConnectionError"
    assert exception["value"] == (
        f"could not get a MySQL connection to mysql://{REDACTED}@127.0.0.1:3306/eton: "
        f"password={REDACTED} access_token={REDACTED}"
    )
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "get_mysql_connection"
    assert frame["vars"] == {  # locals were sent, and scrubbed by name and by content
        "token": REDACTED,
        "access_token": REDACTED,
        "login": f"'password={REDACTED}'",
        "dsn": REDACTED,
    }
    assert {key: event["extra"][key] for key in ("token", "url")} == {  # the SDK adds sys.argv
        "token": REDACTED,
        "url": f"https://media.invalid/v1.1/funds/get?access_token={REDACTED}",
    }
    assert any(
        crumb.get("message") == f"GET funds/get?access_token={REDACTED}&account_id=1"
        for crumb in event["breadcrumbs"]["values"]
    )

    sent = b"".join(sink.bodies)
    assert b"T100117" in sent and REDACTED.encode() in sent  # the bodies checked are the real ones
    for secret in (token, PASSWORD, DB_PASSWORD):
        assert secret.encode() not in sent


def test_alert_message_is_tagged_and_tags_do_not_leak_between_captures(sink: SentrySink) -> None:
    with build_resources({"sentry": SentryResource(dsn=sink.dsn, environment="test")}) as res:
        res.sentry.capture_failure(RuntimeError("first"), tenant="T100117", media="jrtt", run_id="run-1")
        res.sentry.capture_message(
            "empty source list for a daily job", tenant="T200001", media="wx", data_date="2020-05-10"
        )
    first, alert = sink.wait_for(2)

    assert first["tags"] == {"tenant": "T100117", "media": "jrtt", "run_id": "run-1"}
    assert alert["message"] == "empty source list for a daily job"
    assert alert["level"] == "warning"
    assert alert["environment"] == "test"
    assert alert["tags"] == {"tenant": "T200001", "media": "wx", "date": "2020-05-10"}


@pytest.mark.timeout(20)  # "does not hang": the test fails rather than waits on a dead endpoint
def test_an_unreachable_sentry_neither_raises_nor_hangs_and_alerts_arrive_once_it_is_back() -> None:
    port = closed_port()
    dsn = f"http://arkpublickey@127.0.0.1:{port}/1"
    with build_resources({"sentry": SentryResource(dsn=dsn, flush_timeout_s=1.0)}) as res:
        res.sentry.capture_failure(RuntimeError("while Sentry was down"), tenant="T100117", media="gdt")
        res.sentry.flush()  # gives up after its timeout: the caller goes on
        with SentrySink(port=port) as sink:  # Sentry is back, at the same address
            res.sentry.capture_message("once Sentry was back", tenant="T100117", media="gdt", level="error")
            res.sentry.flush()
            [event] = sink.wait_for(1)
            received = b"".join(sink.bodies)

    assert event["message"] == "once Sentry was back" and event["tags"]["tenant"] == "T100117"
    assert b"while Sentry was down" not in received  # lost with the outage, not replayed later
