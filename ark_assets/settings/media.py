"""One media's settings: `ARK_<MEDIA>_<FIELD>`, declared once for every media.

A media's variables differ only in the media's name, so they are one class whose prefix is the
media's (`MediaSettings.of("gdt")` reads `ARK_GDT_BASE_URL`, ...): each variable keeps one
declaration however many media the registry holds, and a media added later gets its variables
without an edit here. Defaults that depend on the media (the simulator's URL for it, its declared
simulator app) are resolved by `load.py` outside production only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ark_assets.settings.fields import var

SIMULATOR_URL = "http://127.0.0.1:8600"
DRIFT_POLICIES = ("store_all", "declared_only", "fail")
TEMPLATE = "ARK_<MEDIA>_"


class MediaSettings(BaseSettings):
    """A media's variables (`ARK_<MEDIA>_<FIELD>`); an empty variable counts as unset."""

    model_config = SettingsConfigDict(env_prefix=TEMPLATE, env_ignore_empty=True, frozen=True)

    base_url: str = var(
        "",
        'the media\'s API root, the part before the endpoint paths (README "Production")',
        production=True,
        shown=f"`{SIMULATOR_URL}/<media>` (the simulator)",
    )
    app_id: str = var(
        "", "the developer app's id (quota, token refresh)", production=True, shown="the simulator's app"
    )
    app_secret: SecretStr = var(
        SecretStr(""), "the developer app's secret", production=True, secret=True, shown="the simulator's app"
    )
    download_url: str = var(
        "",
        "where a media's report files are downloaded (some serve them from another host than the API)",
        production_when="when the media's API version downloads files and `ARK_BULK_REPORTS` is on",
        shown="the base URL (the simulator serves its files itself)",
    )
    api_version: str = var(
        "",
        "the API version spoken and so which report levels exist (each media's versions: "
        "docs/media/<media>.md; aliases `current`, `notes`, `default`); a version the media lacks fails "
        "at load, naming the ones it has",
        expected="a version the media declares",
        shown="`ARK_API_VERSIONS`, else the media's default",
    )
    incr_min: int | None = var(
        None,
        'minutes between intraday refreshes (README "Intraday refreshes")',
        expected="minutes that divide an hour (5, 15, 30, 60) or whole hours",
        shown="the media's declaration (60)",
    )
    drift_policy: Literal["store_all", "declared_only", "fail"] = var(
        "store_all",
        "what the media's records are stored as: `store_all` (as sent), `declared_only` (only the fields "
        "the call names), `fail` (a field that appeared or vanished fails the asset, nothing written)",
        expected=f"one of {', '.join(DRIFT_POLICIES)}",
    )
    _prefix: str = PrivateAttr(default=TEMPLATE)
    _explicit: frozenset[str] = PrivateAttr(default=frozenset())

    @classmethod
    def of(cls, media: str) -> MediaSettings:
        """The settings of media `media`, read from `ARK_<MEDIA>_*` (a pydantic ValidationError when bad)."""
        prefix = f"ARK_{media.upper()}_"
        made = cls(_env_prefix=prefix)
        made._prefix, made._explicit = prefix, frozenset(made.model_fields_set)
        return made

    def env_name(self, field: str) -> str:
        return f"{self._prefix}{field.upper()}"

    def is_set(self, field: str) -> bool:
        """Whether the variable was set (the defaults `load.py` fills in do not count)."""
        return field in self._explicit

    @field_validator("drift_policy", mode="before")
    @classmethod
    def _policy(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("incr_min")
    @classmethod
    def _divides_an_hour(cls, minutes: int | None) -> int | None:
        if minutes is not None and not (0 < minutes <= 1440 and (60 % minutes == 0 or minutes % 60 == 0)):
            raise ValueError("not a divisor of an hour nor whole hours")
        return minutes
