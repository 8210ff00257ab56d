"""A media's API as declared: endpoints, paging, authentication, refresh, quota signals, code table.

One `ApiSpec` per API version a media speaks (`media/<name>.py`); the fetch engine reads only
these shapes, so it never names a media. `declare.py` puts an `ApiSpec` together with the rest of
a media (its Redis keys, app and assets) as one `MediaDefinition`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from ark_assets.media.bulk import AsyncReport
from ark_assets.media.errors import MediaApiError
from ark_assets.media.retention import Retention
from ark_assets.media.token_life import TokenLife

DayParams = Callable[[date], Mapping[str, Any]]
CodeTranslator = Callable[[int, str], "type[MediaApiError] | None"]  # None = success


class Paging(StrEnum):
    NONE = "none"  # one call returns everything
    PAGE = "page"  # page=1..total_page from page_info
    CURSOR = "cursor"  # cursor + has_more


class AuthStyle(StrEnum):
    QUERY_NONCE = "query_nonce"  # access_token, timestamp, nonce in the query string
    HEADER = "header"  # an Access-Token header


def no_params(day: date) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, kw_only=True)
class RowQuota:
    """A media's limits on the rows an endpoint answers per account and level (0 = no such limit);
    the engine keeps every account's level under them (`fetch/row_quota.py`).

    Args:
        per_second: rows per account and level in any second.
        per_window: rows per account and level in any `window_s` seconds.
        window_s: the longer window.
        key_param: the call parameter that names the level (rows are counted per level).
    """

    per_second: int = 0
    per_window: int = 0
    window_s: float = 10.0
    key_param: str = "level"

    def __post_init__(self) -> None:
        if self.per_second < 0 or self.per_window < 0 or self.window_s <= 0:
            raise ValueError(f"row quota {self}: limits must be >= 0 and window_s > 0")


@dataclass(frozen=True, kw_only=True)
class EndpointSpec:
    """One endpoint: its quota name, path below the media's base URL, and how it pages.

    Args:
        name: the endpoint as quotas, counters and logs name it (`funds/get`).
        path: below the base URL (`/v1.1/funds/get`).
        source_param: the query parameter that names the source (`account_id`), or None when
            the token alone says whose data it is (an agency listing its own accounts).
        paging: how to walk every page.
        page_size: the page size to ask for (the endpoint's maximum: fewest calls).
        records: where records sit in `data` (a key, or "" when `data` itself is the records).
            Records that are bare ids (not objects) become `{"id": <id>}`.
        page_size_param: the request parameter carrying the page size.
        cursor_info: the response object holding `has_more` and `cursor` (cursor paging).
        fixed_params: parameters every call sends (e.g. a pagination mode, the record `fields`).
        call_params: parameters derived from a call's own, overriding them (e.g. a report level in
            this version's spelling, with the level's `fields` and `group_by`).
        source_int64: the source id (or batch of ids) travels as int64 JSON numbers, not text
            (`advertiser_ids=[1,2]`, not `["1","2"]`).
        row_quota: the media's limits on the rows this endpoint answers per account and level.
        method: GET (parameters in the query) or POST (a JSON body; never retried nor hedged, since
            a second POST may create a second thing).
        download: the answer is a file (after the media's redirect), not an envelope: it is
            streamed to local disk from the download base URL and its md5 taken; an envelope
            answer is still read as one (an error).
        bulk: the report's asynchronous path in this version (agency-level tasks), if it has one.
        retention: how far back a dated endpoint serves data (`retention.py`): a partition day
            before it is refused before any call; None = no limit declared.

    A cursor-paged endpoint that answers in page mode (`page_info`, no cursor object) is walked
    on by page with `page` and `page_size`, the names every media here uses for page mode.
    """

    name: str
    path: str
    source_param: str | None = None
    paging: Paging = Paging.NONE
    page_size: int | None = None
    records: str = "list"
    page_size_param: str = "page_size"
    cursor_info: str = "cursor_page_info"
    fixed_params: Mapping[str, Any] = field(default_factory=dict)
    call_params: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    source_int64: bool = False
    row_quota: RowQuota | None = None
    method: str = "GET"
    download: bool = False
    bulk: AsyncReport | None = None
    retention: Retention | None = None

    def __post_init__(self) -> None:
        if self.method not in ("GET", "POST"):
            raise ValueError(f"endpoint {self.name!r}: method {self.method!r} must be GET or POST")
        if not self.path.startswith("/"):
            raise ValueError(f"endpoint {self.name!r}: path {self.path!r} must start with '/'")
        if self.paging is not Paging.NONE and not self.page_size:
            raise ValueError(f"endpoint {self.name!r} pages by {self.paging} but declares no page_size")


@dataclass(frozen=True, kw_only=True)
class RefreshSpec:
    """The media's OAuth refresh endpoint (rotates the access/refresh pair).

    Args:
        path: below the base URL.
        method: GET (parameters in the query) or POST (a JSON body).
        build: (app_id, secret, refresh_token) -> the parameters or body, typed as the media wants
            (a ValueError naming the app id when it cannot be typed so).
        life: how long the tokens live and where the answer says so (`token_life.py`).

    An answer without a new refresh token (optional in some media's answers) keeps the stored one.
    """

    path: str
    method: str
    build: Callable[[str, str, str], Mapping[str, Any]]
    life: TokenLife | None = None


@dataclass(frozen=True, kw_only=True)
class QuotaHeader:
    """A response header that says how much of the app's quota is left for the endpoint.

    Args:
        name: the header (`X-RateLimit-Remaining`).
        minute_pct: the header's value -> the percentage left in the short (per-minute) bucket,
            or None when the value is absent or garbled; the rate governor rides that level.
    """

    name: str
    minute_pct: Callable[[str | None], int | None]


@dataclass(frozen=True, kw_only=True)
class ApiSpec:
    """Everything the fetch engine needs to know about one media's API.

    Args:
        media: the media's name (logs, governor keys, errors).
        version: the API version these paths and parameters belong to (`v1.1`).
        auth: how a call carries its access token.
        code_key / message_key: the body fields holding the code and its message.
        trace_key: the body field with the trace/request id, if any.
        trace_header: the response header with the trace id, if any (used when the body has none).
        quota: the quota header the media sends, or None (the governor then learns the rate
            from throttle codes alone).
        translate_code: a body code -> None (success) or the error class it means.
        refresh: the token refresh endpoint.
        endpoints: by name (the name quotas, the rate governor and logs use).
        roles: a logical role -> the endpoint that plays it in this version, for a role whose
            endpoint differs between versions (an account listing); declarations name the role.
    """

    media: str
    auth: AuthStyle
    code_key: str
    message_key: str
    trace_key: str | None
    translate_code: CodeTranslator
    refresh: RefreshSpec
    endpoints: Mapping[str, EndpointSpec]
    trace_header: str | None = None
    quota: QuotaHeader | None = None
    version: str = ""
    roles: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = {role: name for role, name in self.roles.items() if name not in self.endpoints}
        if unknown:
            raise ValueError(f"{self.media} {self.version}: roles {unknown} name undeclared endpoints")

    def endpoint(self, name: str) -> EndpointSpec:
        """The endpoint called `name`, or the one playing the role `name` in this version."""
        try:
            return self.endpoints[self.roles.get(name, name)]
        except KeyError:
            known = sorted({*self.endpoints, *self.roles})
            raise ValueError(
                f"{self.media} {self.version or ''} has no endpoint {name!r}: expected one of {known}"
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


def endpoints(*specs: EndpointSpec) -> dict[str, EndpointSpec]:
    """`{spec.name: spec}`, refusing a name declared twice."""
    by_name: dict[str, EndpointSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ValueError(f"endpoint {spec.name!r} is declared twice")
        by_name[spec.name] = spec
    return by_name


def code_table(codes: Mapping[int, type[MediaApiError]], unknown: type[MediaApiError]) -> CodeTranslator:
    """A `translate_code` from a code table: 0 is success, a listed code its class, any other `unknown`."""

    def translate(code: int, message: str) -> type[MediaApiError] | None:
        return None if code == 0 else codes.get(code, unknown)

    translate.codes = dict(codes)  # type: ignore[attr-defined]  # the table, for docs and tests
    return translate
