"""Keep secrets (access tokens, passwords, DSNs) out of every sink.

Everything that leaves the process -- MySQL rows, Kafka events, Sentry events, logs -- goes
through `redact` first. Two nets: values under secret-looking keys are replaced wherever they
sit in a nested structure, and known secret values (tokens loaded at run time, registered with
`remember_secret`) are replaced wherever they appear inside any string.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Keys whose values are secrets, whatever the value looks like: a key is secret when, lower-cased
# with "-" read as "_", it is one of these names or ends with "_" + one of them
# (`account_token`, `redis_password`, `sentry_dsn`; but not `token_count`).
_SECRET_NAMES = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "dsn",
        "apikey",
        "api_key",
        "authorization",
        "cookie",
        "set_cookie",
        "credentials",
    }
)
# `access_token=...` / `"refresh_token": "..."` / `Access-Token: ...` inside free text.
_SECRET_IN_TEXT = re.compile(
    r"(?P<key>(access[_\-]?token|refresh[_\-]?token|client[_\-]?secret|password|passwd|secret)"
    r"[\"']?\s*[=:]\s*[\"']?)(?!\[redacted\])(?P<value>[^\s&\"',;)\]}]+)",
    re.IGNORECASE,
)
# Credentials inside URLs and DSNs: scheme://user:password@host or scheme://key@host. The bounded
# repetitions keep this linear on long unbroken text (base64 blobs, hex dumps).
_URL_CREDENTIALS = re.compile(
    r"(?<![a-z0-9+.\-])(?P<scheme>[a-z][a-z0-9+.\-]{0,30}://)(?P<cred>[^/\s@]{1,512})@", re.IGNORECASE
)

_known: set[str] = set()
_known_lock = threading.Lock()
_MIN_SECRET_LEN = 6  # shorter values would redact ordinary words and numbers


def remember_secret(value: str | None) -> None:
    """Register a secret value (e.g. a token read from Redis) to be scrubbed from all text."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _known_lock:
            _known.add(value)


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``access_token``, ``password``, ``dsn``...)."""
    if not isinstance(key, str):
        return False
    name = key.lower().replace("-", "_")
    return name in _SECRET_NAMES or any(name.endswith("_" + secret) for secret in _SECRET_NAMES)


def redact_text(text: str) -> str:
    """`text` with known secrets, `key=value` secrets and URL credentials replaced."""
    # `key=value` and URL credentials first: they remove a whole value, whereas a known secret that
    # happens to be part of a longer token would leave the rest of that token behind.
    text = _SECRET_IN_TEXT.sub(lambda m: m.group("key") + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(value: Any) -> Any:
    """A copy of `value` (nested dicts, lists, tuples, strings, bytes) with secrets replaced."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v not in (None, "") else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact(v) for v in value]
        return items if isinstance(value, list) else type(value)(items)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace")).encode()
    return value
