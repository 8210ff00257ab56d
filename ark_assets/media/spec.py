"""How a media's API is declared, so the fetch engine needs no `if media == ...` anywhere.

A media module (`gdt.py`, `jrtt.py`, `wx.py`) declares its conventions once -- how a request is
authenticated, where records and paging sit in a response, which codes mean what -- and its
endpoints as `EndpointSpec`s. The engine only reads these declarations.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ark_assets.fetch.errors import MediaApiError
from ark_assets.media import Media


class Paging(StrEnum):
    NONE = "none"  # one call returns everything
    PAGE = "page"  # page=1..total_page from page_info
    CURSOR = "cursor"  # cursor + has_more


class AuthStyle(StrEnum):
    QUERY_NONCE = "query_nonce"  # gdt/wx: access_token, timestamp, nonce in the query string
    HEADER = "header"  # jrtt: Access-Token header


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint: its quota name, path below the media's base URL, and how it pages.

    Args:
        name: the endpoint as quotas, counters and logs name it (`funds/get`).
        path: below the base URL (`/v1.1/funds/get`).
        source_param: the query parameter that names the source (`account_id`, `advertiser_id`).
        paging: how to walk every page.
        page_size: the page size to ask for (the endpoint's maximum, fewest calls).
        records: where records sit in `data` (a key, or "" when `data` itself is the records).
        page_size_param: the request parameter carrying the page size.
        cursor_info: the response object holding `has_more` and `cursor` (cursor paging).
        fixed_params: parameters every call sends (e.g. gdt's cursor pagination mode).
    """

    name: str
    path: str
    source_param: str | None
    paging: Paging = Paging.NONE
    page_size: int | None = None
    records: str = "list"
    page_size_param: str = "page_size"
    cursor_info: str = "cursor_page_info"
    fixed_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefreshSpec:
    """The media's OAuth refresh endpoint (rotates the access/refresh pair)."""

    path: str
    method: str
    build: Callable[[str, str, str], Mapping[str, Any]]  # (app_id, secret, refresh_token) -> params/body


@dataclass(frozen=True)
class MediaSpec:
    """Everything the engine needs to know about one media."""

    media: Media
    auth: AuthStyle
    code_key: str  # the body field holding the code
    message_key: str
    trace_key: str | None  # body field with the trace/request id
    quota_header: bool  # sends X-RateLimit-Remaining
    translate_code: Callable[[int, str], type[MediaApiError] | None]  # None = success
    refresh: RefreshSpec
    endpoints: Mapping[str, EndpointSpec] = field(default_factory=dict)

    def endpoint(self, name: str) -> EndpointSpec:
        try:
            return self.endpoints[name]
        except KeyError:
            raise ValueError(
                f"{self.media} has no endpoint {name!r}: expected one of {sorted(self.endpoints)}"
            ) from None

    def request_parts(self, token: str, params: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        """(query, headers) for one call: structured values JSON-encoded, auth as the media wants it."""
        query = {
            k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in params.items()
        }
        if self.auth is AuthStyle.QUERY_NONCE:
            query |= {
                "access_token": token,
                "timestamp": str(int(time.time())),
                "nonce": uuid.uuid4().hex[:24],
            }
            return query, {}
        return query, {"Access-Token": token}


def parse_rate_limit(value: str | None) -> tuple[int, int] | None:
    """`X-RateLimit-Remaining: 99%,74%` -> (99, 74) as (day %, minute %); None when absent or garbled."""
    if not value:
        return None
    try:
        day, minute = (int(part.strip().rstrip("%")) for part in value.split(","))
    except ValueError:
        return None
    return day, minute
