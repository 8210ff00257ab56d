"""Secrets never leave the process: what `redact` removes, and what it must leave alone."""

from __future__ import annotations

import pytest

from ark_assets.core.redact import REDACTED, redact, redact_text, remember_secret

TOKEN = "9b7e0d9cbd9f7b8de39299632c2f962001e4421a"  # shaped like the seed's jrtt token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # query strings as the seed's gdt requests carried them
        (
            "GET /v1.1/funds/get?access_token=abc123&nonce=9",
            f"GET /v1.1/funds/get?access_token={REDACTED}&nonce=9",
        ),
        # JSON-ish and header-ish spellings
        ('{"refresh_token": "r-1"}', f'{{"refresh_token": "{REDACTED}"}}'),
        ("Access-Token: tok9", f"Access-Token: {REDACTED}"),
        ("(password=hunter22)", f"(password={REDACTED})"),  # trailing punctuation survives
        # DSNs and URLs with credentials
        ("https://key@o1.ingest.example/1", f"https://{REDACTED}@o1.ingest.example/1"),
        ("mysql://ark:pw@127.0.0.1:3306/nyfz", f"mysql://{REDACTED}@127.0.0.1:3306/nyfz"),
        # nothing secret: unchanged
        ("account 99872976879 agent 84421955984", "account 99872976879 agent 84421955984"),
        ("user@example.com wrote", "user@example.com wrote"),
    ],
)
def test_secrets_in_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_known_secret_values_are_replaced_anywhere() -> None:
    remember_secret(TOKEN)
    assert redact_text(f"token {TOKEN} expired") == f"token {REDACTED} expired"
    assert redact({"argv": [f"--token={TOKEN}"]}) == {"argv": [f"--token={REDACTED}"]}


def test_secret_keys_in_nested_structures() -> None:
    params = {
        "agent_id": 1050262,
        "account_token": "q",
        "nested": {"Access-Token": "x", "redis_password": "p", "sentry_dsn": "http://k@h/1"},
        "token_count": 3,  # a count, not a token
        "agents_list": ["1050262"],
    }
    assert redact(params) == {
        "agent_id": 1050262,
        "account_token": REDACTED,
        "nested": {"Access-Token": REDACTED, "redis_password": REDACTED, "sentry_dsn": REDACTED},
        "token_count": 3,
        "agents_list": ["1050262"],
    }


@pytest.mark.parametrize("filler", ["a", "0", "ab:/"])
def test_long_unbroken_text_is_handled(filler: str) -> None:
    # A 2 MB blob must come back intact (a backtracking pattern once made this hang).
    blob = filler * (2_000_000 // len(filler))
    assert redact_text(blob) == blob


def test_redacting_twice_changes_nothing_more() -> None:
    remember_secret(TOKEN)
    once = redact_text(f"GET /x?access_token={TOKEN} password={TOKEN}]")
    assert once == f"GET /x?access_token={REDACTED} password={REDACTED}]"
    assert redact_text(once) == once
