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

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from ark_assets.core.tiers import AgentTier
from ark_assets.media.api import ApiSpec, DayParams, no_params
from ark_assets.media.bulk import Activity, ReportFamilies

_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_KEY_FIELDS = re.compile(r"{(\w*)}")


class RowShape(StrEnum):
    """How one account's successful answer becomes HBase rows."""

    PER_RECORD_KIND = "per_record_kind"  # one row per record, kind = a record field (a fund type)
    PER_RECORD_ACCOUNT = "per_record_account"  # one row per record of a batch, its account = id_field
    ONE_PER_ACCOUNT = "one_per_account"  # one row holding the single record (a one-object answer)
    RECORDS_PER_ACCOUNT = "records_per_account"  # one row holding the record list; none when empty


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
