"""One agent's token state from what Redis holds and the refresher recorded (no service needed)."""

from __future__ import annotations

import pytest

from ark_assets.automation.token_state import DAY_S, assess
from ark_assets.clients.token_health import TokenRecord, fingerprint
from ark_assets.media import gdt, jrtt

NOW = 1_800_000_000.0
LIFE = gdt.REFRESH.life


def _state(record: TokenRecord | None, **kwargs) -> str:
    args = {"has_token": True, "has_refresh_token": True, "life": LIFE, "now": NOW, "warn_days": 7} | kwargs
    return assess("1001", record, **args).state


@pytest.mark.parametrize(
    ("record", "kwargs", "state"),
    [
        (None, {"has_token": False}, "no_token"),
        (
            TokenRecord("p", NOW - 10, refused={"at": NOW - 5, "code": "11012", "kind": "RefreshFailed"}),
            {},
            "refused",
        ),
        (TokenRecord("p", NOW - 10), {"has_refresh_token": False}, "no_refresh_token"),
        (
            TokenRecord("p", NOW - 40 * DAY_S, issued_at=NOW - 40 * DAY_S, refresh_expires_at=NOW - DAY_S),
            {},
            "refresh_expired",
        ),
        (TokenRecord("p", NOW - 27 * DAY_S, refresh_expires_at=NOW + 3 * DAY_S), {}, "refresh_expiring"),
        (
            TokenRecord("p", NOW - DAY_S, refresh_expires_at=NOW + 29 * DAY_S, access_expires_at=NOW - 60),
            {},
            "access_expired",
        ),
        (
            TokenRecord("p", NOW - DAY_S, refresh_expires_at=NOW + 29 * DAY_S, access_expires_at=NOW + 60),
            {},
            "ok",
        ),
        # issued upstream, age unknown: judged by the latest it can live (first seen + 30 days)
        (TokenRecord("p", NOW - 25 * DAY_S), {}, "refresh_expiring"),
        (TokenRecord("p", NOW - 31 * DAY_S), {}, "refresh_expired"),
        (TokenRecord("p", NOW - 25 * DAY_S), {"warn_days": 2}, "ok"),
    ],
)
def test_states(record, kwargs, state) -> None:
    assert _state(record, **kwargs) == state


def test_an_unknown_age_is_said_and_lives_come_from_the_media() -> None:
    token = assess(
        "1001",
        TokenRecord("p", NOW - 25 * DAY_S),
        has_token=True,
        has_refresh_token=True,
        life=LIFE,
        now=NOW,
        warn_days=7,
    )
    assert "at the latest (issued upstream; age unknown)" in token.detail and not token.refresh_expiry_known
    assert (LIFE.access_s, LIFE.refresh_s) == (86_400, 2_592_000)
    assert (
        jrtt.API.refresh.life.access_field == "expires_in" and jrtt.API.refresh.life.refresh_s == 30 * DAY_S
    )


def test_a_fingerprint_names_a_pair_without_its_secret() -> None:
    assert fingerprint("secret-refresh-token") != fingerprint("another") and len(fingerprint("x")) == 16
    assert "secret" not in fingerprint("secret-refresh-token") and fingerprint(None) == "none"
