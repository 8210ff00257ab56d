"""A tiny synchronous client for the simulator, for tests and demos (not the platform's fetch engine).

It signs requests the way each media expects (gdt/wx: access_token, timestamp, nonce in the query,
structured values JSON-encoded; jrtt: the Access-Token header) and returns the raw response.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests

from ark_assets.media import Media


class SimClient:
    """Requests against one simulator base URL ("http://127.0.0.1:PORT")."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def tencent(
        self,
        media: Media | str,
        path: str,
        token: str | None,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        omit: tuple[str, ...] = (),
        **params: Any,
    ) -> requests.Response:
        """A gdt/wx GET with the three global parameters (any of them left out via `omit`)."""
        query = {"access_token": token, "timestamp": timestamp or int(time.time()), "nonce": nonce}
        if query["nonce"] is None:
            query["nonce"] = uuid.uuid4().hex[:24]
        query = {k: v for k, v in query.items() if k not in omit and v is not None}
        query.update({k: encode(v) for k, v in params.items()})
        url = f"{self.base_url}/{Media.parse(media)}{path}"
        return self.session.get(url, params=query, timeout=self.timeout)

    def gdt(self, path: str, token: str | None, **params: Any) -> requests.Response:
        return self.tencent(Media.GDT, path, token, **params)

    def wx(self, path: str, token: str | None, **params: Any) -> requests.Response:
        return self.tencent(Media.WX, path, token, **params)

    def jrtt(self, path: str, token: str | None, **params: Any) -> requests.Response:
        """A jrtt GET with the Access-Token header (no header when `token` is None)."""
        headers = {} if token is None else {"Access-Token": token}
        return self.session.get(
            f"{self.base_url}/jrtt{path}",
            params={k: encode(v) for k, v in params.items()},
            headers=headers,
            timeout=self.timeout,
        )

    def jrtt_post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(f"{self.base_url}/jrtt{path}", json=body, timeout=self.timeout)


def encode(value: Any) -> str:
    """A query value: strings and ints as text, lists and dicts JSON-encoded."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
