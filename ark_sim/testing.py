"""A tiny synchronous client for the simulator, for tests and demos (not the platform's fetch engine).

Each request is signed the way its media expects, by the media's declaration (`MediaSpec.sign`:
Tencent's access_token, timestamp and nonce in the query, Ocean Engine's Access-Token header),
and the raw response is returned.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import requests

from ark_sim.media import lookup, registry


class SimClient:
    """Requests against one simulator base URL ("http://127.0.0.1:PORT").

    `client.<media>(path, token, **params)` is `client.get(<media>, path, token, **params)`: one
    such shortcut per media of the registry (`client.gdt(...)`).
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        for spec in registry():
            setattr(self, spec.name, partial(self.get, spec.name))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SimClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, media: str, path: str, token: str | None, **params: Any) -> requests.Response:
        """A GET below the media's base URL, signed with `token` (None: unsigned).

        gdt/wx also take `timestamp`, `nonce` (generated when not given) and `omit` (globals to
        leave out), see `ark_sim.media.gdt.tencent_sign`.
        """
        spec = lookup(media)
        query, headers = spec.sign(token, params)
        url = f"{self.base_url}/{spec.name}{path}"
        return self.session.get(url, params=query, headers=headers, timeout=self.timeout)

    def post(
        self, media: str, path: str, body: dict[str, Any], token: str | None = None
    ) -> requests.Response:
        """A JSON POST below the media's base URL: unsigned (jrtt's token refresh), or signed with
        `token` as the media signs (Tencent's `async_reports/add`: the auth in the query)."""
        spec = lookup(media)
        query, headers = spec.sign(token, {}) if token is not None else ({}, {})
        url = f"{self.base_url}/{spec.name}{path}"
        return self.session.post(url, json=body, params=query, headers=headers, timeout=self.timeout)
