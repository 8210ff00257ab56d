"""Every simulator knob in one typed model, loaded from the shipped `sim.toml` plus overrides."""

from __future__ import annotations

import copy
import ipaddress
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ark_sim.catalog import lookup, names


class StrictModel(BaseModel):
    # A misspelt knob must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid")


class EntitySizes(StrictModel):
    """Per account: campaigns, adgroups per campaign, ads per adgroup ([min, max]); hours an ad runs."""

    campaigns: tuple[int, int] = (1, 2)
    adgroups: tuple[int, int] = (1, 2)
    ads: tuple[int, int] = (1, 2)
    active_hours: int = Field(default=4, ge=1, le=24)
    # share of campaigns and of ads that are deleted (their past spend stays in the media's data)
    deleted_share: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("campaigns", "adgroups", "ads")
    @classmethod
    def _range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high:
            raise ValueError(f"range {list(value)} must be [min, max] with 1 <= min <= max")
        return value


class ProfileConfig(StrictModel):
    """The size of one tenant's world.

    Each media's sizes are a table under its name (`<media> = { agents = 2, accounts = 30 }`), in the
    shape its declaration gives (`WorldSpec.sizes`); read them with `media_sizes(name)`.
    """

    # Extra keys are the media tables; `_media_sizes` refuses any other.
    model_config = ConfigDict(extra="allow")

    no_spend_rate: float = Field(default=0.25, ge=0.0, le=1.0)
    # share of accounts dormant on every day (a real agency's long tail): no impressions, clicks or cost
    dormant_share: float = Field(default=0.0, ge=0.0, le=1.0)
    # share of an active day's accounts shown (impressions, clicks) at no cost (e.g. billed per conversion)
    shown_no_cost_share: float = Field(default=0.0, ge=0.0, le=1.0)
    inactive_agents: int = Field(default=2, ge=0)
    inactive_accounts: int = Field(default=3, ge=0)
    entities: EntitySizes = EntitySizes()

    @model_validator(mode="after")
    def _media_sizes(self) -> ProfileConfig:
        tables = self.__pydantic_extra__
        unknown = sorted(set(tables) - set(names()))
        if unknown:
            raise ValueError(
                f"unknown profile knob(s) {unknown}; a profile holds {', '.join(type(self).model_fields)} "
                f"and one table per media ({', '.join(names())})"
            )
        missing = [name for name in names() if name not in tables]
        if missing:
            raise ValueError(f"the profile lacks the sizes of {', '.join(missing)}")
        for name in names():
            tables[name] = lookup(name).world.sizes.model_validate(tables[name])
        return self

    def media_sizes(self, media: str) -> Any:
        """The sizes of one media (the model its declaration's `WorldSpec.sizes` names)."""
        return self.__pydantic_extra__[lookup(media).name]


class AppConfig(StrictModel):
    app_id: int
    secret: str = Field(min_length=1)


class TokenTtl(StrictModel):
    """Token lifetimes, and whether a refresh answer carries a new refresh token.

    `refresh_answer_token = false` answers a refresh with a new access token only and keeps the
    refresh token valid (Tencent's `refresh_token` is optional in the answer, and a mirror of its
    doc shows an answer without one).
    """

    access_ttl_s: float = Field(gt=0)
    refresh_ttl_s: float = Field(gt=0)
    refresh_answer_token: bool = True


class LatencyConfig(StrictModel):
    """Lognormal response delay: median_ms * exp(sigma * N(0, 1)); a 0 median means no delay."""

    median_ms: float = Field(default=0.0, ge=0.0)
    sigma: float = Field(default=0.5, ge=0.0)


class FaultConfig(StrictModel):
    """Per-request probabilities of each fault (drawn in this order from one seeded stream)."""

    http_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout: float = Field(default=0.0, ge=0.0, le=1.0)
    reset: float = Field(default=0.0, ge=0.0, le=1.0)
    malformed: float = Field(default=0.0, ge=0.0, le=1.0)
    busy: float = Field(default=0.0, ge=0.0, le=1.0)
    wrong_types: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_hold_s: float = Field(default=30.0, ge=0.0)
    # Not drawn per request: on or off for every answer they apply to.
    cursor_loop: bool = False
    cursor_ignored: bool = False
    huge_page_kb: int = Field(default=0, ge=0, le=65536)


class QuotaLimits(StrictModel):
    """One (app, endpoint) quota; a 0 limit means that bucket does not exist."""

    per_second: int = Field(default=0, ge=0)
    per_minute: int = Field(default=0, ge=0)
    per_day: int = Field(default=0, ge=0)
    burst_seconds: float = Field(default=10.0, gt=0.0)
    block_seconds: float = Field(default=0.0, ge=0.0)


class QuotaOverride(StrictModel):
    """Per-endpoint changes to a media's default quota; None inherits the default."""

    per_second: int | None = Field(default=None, ge=0)
    per_minute: int | None = Field(default=None, ge=0)
    per_day: int | None = Field(default=None, ge=0)
    burst_seconds: float | None = Field(default=None, gt=0.0)
    block_seconds: float | None = Field(default=None, ge=0.0)


class RowLimits(StrictModel):
    """Report row quotas per (account, report, level); 0 = no such limit (see `ark_sim/rows.py`)."""

    per_second: int = Field(default=0, ge=0)
    freeze_s: float = Field(default=5.0, ge=0.0)
    per_window: int = Field(default=0, ge=0)
    window_s: float = Field(default=10.0, gt=0.0)


class AsyncReportLimits(StrictModel):
    """Tencent's asynchronous report tasks (`ark_sim/tasks.py`): how long a task waits and runs,
    how long its file is kept, the per-id creation limit, and faults of its own."""

    pending_s: float = Field(default=2.0, ge=0.0)
    processing_s: float = Field(default=5.0, ge=0.0)
    expire_s: float = Field(default=86400.0, gt=0.0)
    cooldown_s: float = Field(default=300.0, ge=0.0)
    file_rows: int = Field(default=0, ge=0)
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_accounts: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_levels: list[str] = []  # the levels whose files drop_accounts applies to; empty = every level


class QuotaConfig(StrictModel):
    default: QuotaLimits
    endpoints: dict[str, QuotaOverride] = {}


class MediaConfig(StrictModel):
    app: AppConfig
    tokens: TokenTtl
    latency: LatencyConfig = LatencyConfig()
    faults: FaultConfig = FaultConfig()
    quota: QuotaConfig
    rows: RowLimits = RowLimits()
    async_reports: AsyncReportLimits = AsyncReportLimits()


class ClockConfig(StrictModel):
    today: date | None = None
    timezone: str = "Asia/Shanghai"

    @field_validator("today", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class SimConfig(StrictModel):
    """All simulator knobs (see `sim.toml` for each one's meaning and default)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=0, le=65535)
    profile: str = "small"
    seed: int = 20200520
    revision_days: int = Field(default=3, ge=0)
    timestamp_skew_s: float = Field(default=300.0, ge=0.0)
    nonce_ttl_s: float = Field(default=600.0, ge=0.0)
    fault_seed: int = 7
    clock: ClockConfig = ClockConfig()
    profiles: dict[str, ProfileConfig]
    media: dict[str, MediaConfig]

    @field_validator("host")
    @classmethod
    def _loopback(cls, host: str) -> str:
        """The simulator never listens beyond this machine."""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback or ipaddress.ip_address(host).version != 4:
            raise ValueError(f"host {host!r} is not an IPv4 loopback address; use 127.0.0.1")
        return host

    @model_validator(mode="after")
    def _consistent(self) -> SimConfig:
        if self.profile not in self.profiles:
            raise ValueError(f"profile {self.profile!r} is not one of {sorted(self.profiles)}")
        missing = [name for name in names() if name not in self.media]
        if missing:
            raise ValueError(f"[media] lacks {', '.join(missing)}")
        strangers = sorted(set(self.media) - set(names()))
        if strangers:
            raise ValueError(f"[media] names unknown media {strangers}; known: {', '.join(names())}")
        for media, cfg in self.media.items():
            known = lookup(media).endpoints
            unknown = sorted(set(cfg.quota.endpoints) - set(known))
            if unknown:
                raise ValueError(
                    f"[media.{media}.quota.endpoints] names unknown endpoints {unknown}; "
                    f"known: {', '.join(known)}"
                )
        return self

    @property
    def sizes(self) -> ProfileConfig:
        """The active profile's sizes."""
        return self.profiles[self.profile]

    def quota_limits(self, media: str, endpoint: str) -> QuotaLimits:
        """The effective quota of one endpoint: the media default with the endpoint's overrides."""
        quota = self.media[lookup(media).name].quota
        override = quota.endpoints.get(endpoint)
        if override is None:
            return quota.default
        changes = {k: v for k, v in override.model_dump().items() if v is not None}
        return quota.default.model_copy(update=changes)

    @classmethod
    def load(cls, path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> SimConfig:
        """The shipped defaults, deep-merged with the TOML file at `path`, then with `overrides`."""
        data = tomllib.loads(resources.files(__package__).joinpath("sim.toml").read_text("utf-8"))
        if path is not None:
            with open(path, "rb") as fh:
                data = deep_merge(data, tomllib.load(fh))
        if overrides:
            data = deep_merge(data, overrides)
        return cls.model_validate(data)


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `changes` merged in; nested tables merge, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
