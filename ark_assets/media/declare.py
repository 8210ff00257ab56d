"""How a media is declared: one keyword-only `MediaDefinition` per media module.

A media module (`media/<name>.py`) declares everything that differs between media and exports
it as `MEDIA`: how its API authenticates, where records and paging sit in an answer, what each
body code means, its quota signals, its Redis key formats, its default app, and the assets the
platform builds from it. A media whose API comes in versions declares one `ApiSpec` per version
(paths, parameters, and the endpoint behind a logical role such as the account listing); which
one a deployment speaks is configuration (`ARK_<MEDIA>_API_VERSION`, `MediaApiResource`), and
asset keys, tables, row keys and Redis keys never depend on it. The registry (`registry.py`)
collects the modules; the fetch engine,
the resources, the asset factories and the docs read only these declarations, so no module
outside a media's own names that media. `docs/ADDING_A_MEDIA.md` walks through a new one.

Everything here is plain data, checked when it is built: a declaration that names an endpoint
it does not declare, or a tier without a Redis key, fails at import with the reason.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from ark_assets.core.tiers import AgentTier
from ark_assets.media.bulk import Activity, AsyncReport, ReportFamilies
from ark_assets.media.errors import MediaApiError
from ark_assets.media.retention import Retention
from ark_assets.media.token_life import TokenLife

DayParams = Callable[[date], Mapping[str, Any]]
CodeTranslator = Callable[[int, str], "type[MediaApiError] | None"]  # None = success

_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_KEY_FIELDS = re.compile(r"{(\w*)}")


class Paging(StrEnum):
    NONE = "none"  # one call returns everything
    PAGE = "page"  # page=1..total_page from page_info
    CURSOR = "cursor"  # cursor + has_more


class AuthStyle(StrEnum):
    QUERY_NONCE = "query_nonce"  # access_token, timestamp, nonce in the query string
    HEADER = "header"  # an Access-Token header


class RowShape(StrEnum):
    """How one account's successful answer becomes HBase rows."""

    PER_RECORD_KIND = "per_record_kind"  # one row per record, kind = a record field (a fund type)
    PER_RECORD_ACCOUNT = "per_record_account"  # one row per record of a batch, its account = id_field
    ONE_PER_ACCOUNT = "one_per_account"  # one row holding the single record (a one-object answer)
    RECORDS_PER_ACCOUNT = "records_per_account"  # one row holding the record list; none when empty


def no_params(day: date) -> Mapping[str, Any]:
    return {}


# ----- the API


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


# ----- Redis, apps


@dataclass(frozen=True, kw_only=True)
class RedisKeys:
    """The media's Redis key formats (db 2), byte for byte as the legacy jobs write them.

    Templates take `{tenant}`, `{yyyymmdd}` (account lists) and `{agent_id}` (per-agent account
    lists). `agents` and `accounts` map a tier to its key; `None` is the key without a tier
    (every agent of a media without tiers, or all agents of a tiered one).

    Args:
        tokens: sorted set, member = access token, score = agent id.
        refresh_tokens: hash, field = agent id, value = refresh token (beside the seed's keys,
            so one refresher can rotate an agent's pair in one transaction).
        agents: sorted sets, member = score = agent id.
        accounts: the day's sorted sets, member = account id, score = agent id.
    """

    tokens: str
    refresh_tokens: str
    agents: Mapping[AgentTier | None, str]
    accounts: Mapping[AgentTier | None, str]

    def __post_init__(self) -> None:
        for name, template, allowed in (
            ("tokens", self.tokens, {"tenant"}),
            ("refresh_tokens", self.refresh_tokens, {"tenant"}),
            *(("agents", t, {"tenant"}) for t in self.agents.values()),
            *(("accounts", t, {"tenant", "yyyymmdd", "agent_id"}) for t in self.accounts.values()),
        ):
            fields = set(_KEY_FIELDS.findall(template))
            if "tenant" not in fields or not fields <= allowed:
                raise ValueError(
                    f"Redis key template {name}={template!r} must hold {{tenant}} and only "
                    f"{', '.join(sorted('{' + f + '}' for f in allowed))}"
                )
        for template in self.accounts.values():
            if "{yyyymmdd}" not in template:
                raise ValueError(f"account key template {template!r} must hold {{yyyymmdd}}")

    def per_agent(self, tier: AgentTier | None) -> bool:
        """The tier's account key is one key per agent (its template holds `{agent_id}`)."""
        return "{agent_id}" in self.accounts.get(tier, "")


@dataclass(frozen=True, kw_only=True)
class MediaApp:
    """A developer app: whose quota and refresh credentials a run uses.

    Args:
        app_id: as the media issued it (text; each media's refresh call types it as it needs).
        secret: the app secret (a default only ever names the simulator's app).
    """

    app_id: str
    secret: str


# ----- assets


@dataclass(frozen=True, kw_only=True)
class AgentList:
    """An agents asset: the media's active `eton` agents of the tenant joined with their tokens.

    Args:
        name: the asset name (`agents`).
        dataset: the table's dataset part.
        tier: with a tiered media, the tier this asset lists.
    """

    name: str = "agents"
    dataset: str = "agent_list"
    tier: AgentTier | None = None


@dataclass(frozen=True, kw_only=True)
class AccountList:
    """An advertisers asset: each agent's accounts from the media API, also written to Redis.

    Args:
        name: the asset name.
        agents: the upstream agents asset (its rows are this asset's sources).
        endpoint: the listing endpoint, or the role naming it in every API version (`ApiSpec.roles`);
            `by_agent_id` sends the agent id as its source parameter.
        account_field: the record field holding the account id (in every version).
        dataset: the table's dataset part.
        params: the listing's parameters for the day.
        tier: the tier whose Redis account key this writes.
        details_endpoint: fetched afterwards for batches of ≤ `details_batch` accounts of one
            agent; the rows then hold those details instead of the listing's records.
        details_id_field: the details record field holding the account id.
    """

    name: str
    agents: str
    endpoint: str
    account_field: str
    dataset: str
    by_agent_id: bool = False
    params: DayParams = no_params
    tier: AgentTier | None = None
    details_endpoint: str | None = None
    details_batch: int = 100
    details_id_field: str = "id"


@dataclass(frozen=True, kw_only=True)
class AccountDataset:
    """A per-account asset (funds, a report level): its sources are the day's Redis account lists.

    Args:
        name: the asset name.
        dataset: the table's dataset part.
        endpoint: the endpoint called once per account (and time line).
        shape: how an answer becomes rows.
        upstream: the advertisers asset(s) whose account lists this reads.
        params: the call's parameters for the day.
        kind_field: with PER_RECORD_KIND, the record field that becomes the row key's kind.
        time_lines: fetched once per time line, stored with it as the key's suffix.
        group: `funds` (a point-in-time balance: never re-fetched for past days) or `reports`.
        id_field: a record field that must hold the requested account's id.
        money_fields: record fields that must be numbers; other fields are stored verbatim.
        versions: the API versions that serve it (a report level one version lacks, such as
            Tencent v3.0's campaigns); empty = every version. A deployment has the asset only when
            it speaks one of them.
        batch: the endpoint takes up to this many account ids of one agent per call (its source
            parameter a list; shape PER_RECORD_ACCOUNT); 0 = one account per call.
        activity: fetched only for the accounts the media's activity signal (`MediaAssets.
            activity`) does not show idle: an idle account has no rows to report.
        detail_of: the dataset (in the same step) whose rows decide which accounts this one asks:
            only those with rows there (a deeper level of the same report family).
        intraday: also refreshed during the day (the seed's INCR): today's data so far, every
            `incr_min` minutes, in the intraday group (`assets/intraday.py`).
        hour_field: for an hourly dataset refreshed intraday, the record field holding the hour
            (0-23): records of the current, incomplete hour are left out.
    """

    name: str
    dataset: str
    endpoint: str
    shape: RowShape
    upstream: tuple[str, ...]
    params: DayParams = no_params
    kind_field: str | None = None
    time_lines: tuple[str, ...] = ()
    group: str = "reports"
    id_field: str | None = None
    money_fields: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    batch: int = 0
    activity: bool = False
    detail_of: str = ""
    intraday: bool = False
    hour_field: str | None = None

    def served_by(self, version: str) -> bool:
        return not self.versions or version in self.versions

    def __post_init__(self) -> None:
        if self.hour_field is not None and not self.intraday:
            raise ValueError(f"dataset {self.name!r}: hour_field is for a dataset refreshed intraday")
        if (self.shape is RowShape.PER_RECORD_KIND) != (self.kind_field is not None):
            raise ValueError(f"dataset {self.name!r}: kind_field goes with shape PER_RECORD_KIND (only)")
        if (self.batch > 0) != (self.shape is RowShape.PER_RECORD_ACCOUNT and self.id_field is not None):
            raise ValueError(
                f"dataset {self.name!r}: batch goes with shape PER_RECORD_ACCOUNT and an id_field (only)"
            )
        if self.group not in ("funds", "reports"):
            raise ValueError(f"dataset {self.name!r}: group must be 'funds' or 'reports', got {self.group!r}")

    @property
    def row_kind(self) -> bool:
        return self.shape is RowShape.PER_RECORD_KIND

    @property
    def row_suffix(self) -> bool:
        return bool(self.time_lines)


@dataclass(frozen=True, kw_only=True)
class MediaAssets:
    """Every asset one media declares: agent lists → account lists → per-account datasets."""

    agent_lists: tuple[AgentList, ...]
    account_lists: tuple[AccountList, ...]
    datasets: tuple[AccountDataset, ...] = ()
    activity: Activity | None = None  # which accounts had anything to report (`media/bulk.py`)
    families: ReportFamilies | None = None  # report levels an account has rows in one of

    def for_version(self, version: str) -> MediaAssets:
        """The assets a deployment speaking `version` has (datasets of other versions left out)."""
        return replace(self, datasets=tuple(d for d in self.datasets if d.served_by(version)))


# ----- the whole media


@dataclass(frozen=True, kw_only=True)
class MediaDefinition:
    """Everything about one media, as its module declares it (`MEDIA = MediaDefinition(...)`).

    Args:
        name: the short name in Redis keys, Kafka topics, HBase tables and asset keys (its module's name).
        title: for people (the UI's descriptions, the docs).
        platform_id: `eton`'s platform id of the media.
        api: the API's conventions and endpoints in the default version (the one a deployment
            speaks unless configured otherwise).
        api_versions: the API in its other versions, each as complete as `api`.
        current_version: the version the media serve today, when it is not the default
            (`ARK_API_VERSIONS=current` picks it for every media).
        notes_version: the version the design notes' jobs spoke, when it is not the default
            (`ARK_API_VERSIONS=notes` picks it for every media).
        redis: the Redis key formats.
        app: the default app (the simulator's; production configures its own).
        assets: what the platform materializes from the media.
        docs: the media's behaviour page, relative to the repository root.
        owners: who answers for its assets (Dagster owners: `team:<name>` or an email), shown in
            the catalog and on every asset of the media.
        incr_min: minutes between intraday refreshes of its `intraday` datasets (the seed's
            `incr_min`): a divisor of 60, or whole hours.
    """

    name: str
    title: str
    platform_id: int
    api: ApiSpec
    redis: RedisKeys
    app: MediaApp
    assets: MediaAssets
    docs: str = ""
    api_versions: tuple[ApiSpec, ...] = ()
    current_version: str = ""
    notes_version: str = ""
    owners: tuple[str, ...] = ()
    incr_min: int = 60

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"media name {self.name!r} must be lower-case letters and digits")
        if not (0 < self.incr_min <= 1440 and (60 % self.incr_min == 0 or self.incr_min % 60 == 0)):
            raise ValueError(
                f"media {self.name!r}: incr_min {self.incr_min} is not a divisor of 60 or whole hours"
            )
        specs = (self.api, *self.api_versions)
        for spec in specs:
            if spec.media != self.name:
                raise ValueError(
                    f"media {self.name!r}: its api {spec.version!r} declares media {spec.media!r}"
                )
        versions = [spec.version for spec in specs]
        if len(versions) != len(set(versions)):
            raise ValueError(f"media {self.name!r}: an API version is declared twice in {versions}")
        for alias, version in (("current", self.current_version), ("notes", self.notes_version)):
            if version and version not in versions:
                raise ValueError(f"media {self.name!r}: {alias} version {version!r} is not declared")
        served = {v for d in self.assets.datasets for v in d.versions}
        if served - set(versions):
            raise ValueError(
                f"media {self.name!r}: datasets name undeclared versions {sorted(served - set(versions))}"
            )
        for spec in specs:
            _check_assets(self, spec)

    @property
    def versions(self) -> dict[str, ApiSpec]:
        """Every declared API version -> its spec, the default first."""
        return {spec.version: spec for spec in (self.api, *self.api_versions)}

    def api_for(self, version: str | None = None) -> ApiSpec:
        """The API in `version` (None, "" or "default" = the default; "current" = what the media
        serve today; "notes" = what the notes' jobs spoke), or a ValueError naming the declared ones."""
        if version == "current":
            version = self.current_version
        elif version == "notes":
            version = self.notes_version
        if not version or version == "default":
            return self.api
        try:
            return self.versions[version]
        except KeyError:
            raise ValueError(
                f"{self.name} speaks no API version {version!r}: expected one of "
                f"{', '.join(v or '(unnamed)' for v in self.versions)} "
                f"(default {self.api.version or '(unnamed)'})"
            ) from None

    @property
    def tiers(self) -> tuple[AgentTier | None, ...]:
        """The tiers of its agent lists (`(None,)` for a media without tiers)."""
        return tuple(a.tier for a in self.assets.agent_lists)

    def assets_for(self, version: str | None = None) -> MediaAssets:
        """What a deployment speaking `version` (an alias as `api_for` takes) materializes."""
        return self.assets.for_version(self.api_for(version).version)

    def listings(self, names: tuple[str, ...]) -> tuple[AccountList, ...]:
        """The account lists named `names`, in declaration order."""
        return tuple(a for a in self.assets.account_lists if a.name in names)


def _check_assets(media: MediaDefinition, api: ApiSpec) -> None:
    """Refuse a declaration whose parts do not fit together (in API version `api`), naming the part."""
    where = f"media {media.name!r}" + (f" (API {api.version})" if api.version else "")
    declared = media.assets.for_version(api.version)
    agent_names = {a.name for a in declared.agent_lists}
    listing_names = {a.name for a in declared.account_lists}
    names = [a.name for a in (*declared.agent_lists, *declared.account_lists, *declared.datasets)]
    if len(names) != len(set(names)):
        raise ValueError(f"{where}: asset names must be unique, got {names}")
    for agents in declared.agent_lists:
        if agents.tier not in media.redis.agents:
            raise ValueError(f"{where}: agents {agents.name!r} of tier {agents.tier} has no Redis agent key")
    for listing in declared.account_lists:
        if listing.agents not in agent_names:
            raise ValueError(
                f"{where}: {listing.name!r} lists the agents of unknown asset {listing.agents!r}"
            )
        if listing.tier not in media.redis.accounts:
            raise ValueError(f"{where}: {listing.name!r} of tier {listing.tier} has no Redis account key")
        for endpoint in (listing.endpoint, listing.details_endpoint):
            if endpoint is not None:
                api.endpoint(endpoint)
    for dataset in declared.datasets:
        api.endpoint(dataset.endpoint)
        unknown = set(dataset.upstream) - listing_names
        if unknown or not dataset.upstream:
            raise ValueError(
                f"{where}: dataset {dataset.name!r} reads unknown account lists {sorted(unknown)}"
            )
    names = {d.name for d in declared.datasets}
    signal = declared.activity
    if signal is not None and signal.endpoint:
        api.endpoint(signal.endpoint)
    if signal is not None and signal.dataset and signal.dataset not in names:
        raise ValueError(f"{where}: the activity signal reads unknown dataset {signal.dataset!r}")
    for dataset in declared.datasets:
        if dataset.detail_of and dataset.detail_of not in names:
            raise ValueError(
                f"{where}: dataset {dataset.name!r} is a detail of unknown {dataset.detail_of!r}"
            )
        if dataset.activity and signal is None:
            raise ValueError(f"{where}: dataset {dataset.name!r} reads an activity signal the media lacks")
