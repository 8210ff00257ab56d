"""Where each media's API lives, which version of it the platform speaks and which app calls it:
configuration, never code.

Outside production the defaults point at the simulator on loopback (`ark-sim serve`, port 8600,
one path per media) with each media's declared simulator app and default API version, so the
demo and tests need no configuration; production (`ARK_ENV=production`) must set
`ARK_{MEDIA}_BASE_URL`, `ARK_{MEDIA}_APP_ID` and `ARK_{MEDIA}_APP_SECRET` for every media of the
registry, and `ARK_{MEDIA}_API_VERSION` to leave the default version (all read through the
settings object, `ark_assets/settings`; secrets reach Dagster as `EnvVar`s). The version picks the media's
`ApiSpec` (paths, parameters, the endpoint behind a role) and which report levels it has
(`deployed_assets`: Tencent v3.0 has no campaign level, v1.x no dynamic creatives); the assets
both have keep their keys, tables, row keys and Redis keys in every version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dagster import Config, ConfigurableResource
from pydantic import Field

from ark_assets.fetch.engine import EngineSettings
from ark_assets.fetch.governor import GovernorSettings
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import MediaApp, MediaAssets, MediaDefinition
from ark_assets.media.registry import all_media
from ark_assets.media.registry import media as media_named
from ark_assets.resources.env import configured
from ark_assets.settings import default_of, media_settings, settings


class MediaConnection(Config):
    """One media's API root and the developer app whose quota and refresh credentials runs use.

    The app's two fields are a `MediaApp` (`media/declare.py`, the one credential type) in the
    form Dagster config takes (each may be an `EnvVar`, resolved at run time); `app()` gives it back
    as one."""

    base_url: str = Field(description="the API root (the part before the endpoint paths)")
    app_id: str = Field(description="the developer app's id")
    app_secret: str = Field(description="the developer app's secret")
    api_version: str = Field(
        default="",
        description="the API version spoken; empty = the configured one (ARK_<MEDIA>_API_VERSION, "
        "ARK_API_VERSIONS), else the media's default",
    )
    download_url: str = Field(
        default="",
        description="the root of the media's file downloads (Tencent: https://dl.e.qq.com); empty = base_url",
    )


class MediaApiResource(ConfigurableResource):
    """Base URLs, app credentials and engine knobs, per media by name.

    Args:
        media: media name -> its connection (every media a run fetches must have one).
        max_in_flight: accounts fetched concurrently per run.
        initial_rate: calls/s a fresh rate governor starts at (it then adapts and is shared).
        timeout_s: per HTTP call.
        log_sample_rate: share of responses written to the MySQL request/response logs
            (errors and throttles are always logged).
        bulk_reports: report levels a media offers as agency-level asynchronous tasks are fetched
            that way, per-account calls only for what a task's file does not cover
            (`ARK_BULK_REPORTS`, on by default).
        activity_first: reports below the account level are asked only of accounts the media's
            activity signal does not show idle (`ARK_ACTIVITY_FIRST`, on by default).
        task_cooldown_s: one async task per account id this often; None = the media's declared
            limit (`ARK_ASYNC_TASK_COOLDOWN_S`: match a simulator's shorter one).
        task_poll_s / task_wait_s: how often an async task is polled, and how long it may take
            before its accounts are fetched one by one instead.
    """

    media: dict[str, MediaConnection]
    max_in_flight: int = 100
    initial_rate: float = 100.0
    timeout_s: float = 30.0
    log_sample_rate: float = 0.01
    bulk_reports: bool = default_of("bulk_reports")
    activity_first: bool = default_of("activity_first")
    task_cooldown_s: float | None = default_of("async_task_cooldown_s")
    task_poll_s: float = default_of("async_task_poll_s")
    task_wait_s: float = default_of("async_task_wait_s")

    def base_url(self, media: MediaDefinition | str) -> str:
        return self._connection(media).base_url

    def download_url(self, media: MediaDefinition | str) -> str:
        connection = self._connection(media)
        return connection.download_url or connection.base_url

    def app(self, media: MediaDefinition | str) -> MediaApp:
        connection = self._connection(media)
        return MediaApp(app_id=connection.app_id, secret=connection.app_secret)

    def api_spec(self, media: MediaDefinition | str) -> ApiSpec:
        """The media's API in the configured version (a ValueError naming the declared ones)."""
        declared = media_named(media)
        return declared.api_for(self._connection(declared).api_version or configured_version(declared))

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            max_in_flight=self.max_in_flight,
            timeout_s=self.timeout_s,
            governor=GovernorSettings(initial_rate=self.initial_rate),
        )

    def _connection(self, media: MediaDefinition | str) -> MediaConnection:
        name = media_named(media).name
        try:
            return self.media[name]
        except KeyError:
            upper = name.upper()
            raise ValueError(
                f"no API connection for media {name!r} (configured: {', '.join(sorted(self.media))}); "
                f"set ARK_{upper}_BASE_URL, ARK_{upper}_APP_ID and ARK_{upper}_APP_SECRET"
            ) from None


def configured_version(media: MediaDefinition, api_version: str | None = None) -> str:
    """The API version a deployment speaks to `media`: `api_version` when given, else
    `ARK_{MEDIA}_API_VERSION`, else `ARK_API_VERSIONS` for every media (`current`: what the media
    serve today; `notes`: what the notes' jobs spoke; `default`), else the media's default. A
    version the media does not declare fails here, naming them."""
    # read now, not as an EnvVar: it is no secret, and a version the media lacks must fail at load
    own = media_settings(media.name)
    name = own.env_name("api_version") if own.api_version else "ARK_API_VERSIONS"
    wanted = api_version if api_version is not None else own.api_version or settings().api_versions
    try:
        return media.api_for(wanted).version
    except ValueError as exc:
        raise ValueError(f"{name}={wanted!r}: {exc}") from None


def deployed_assets(media: MediaDefinition, api_version: str | None = None) -> MediaAssets:
    """What this deployment materializes from `media`: the assets of its configured API version."""
    return media.assets_for(configured_version(media, api_version))


def default_connection(
    media: MediaDefinition, base_url: str | None = None, api_version: str | None = None
) -> MediaConnection:
    """`ARK_{MEDIA}_*` where set, else (outside production only) the simulator's URL for the media
    and its declared simulator app; and its configured API version (`configured_version`)."""
    own = media_settings(media.name)
    return MediaConnection(
        base_url=base_url or configured(own, "base_url"),
        app_id=configured(own, "app_id"),
        app_secret=configured(own, "app_secret"),
        api_version=configured_version(media, api_version),
        download_url=configured(own, "download_url"),
    )


def media_api_resource_from_env(
    *,
    media: Iterable[MediaDefinition] | None = None,
    base_urls: Mapping[str, str] | None = None,
    api_versions: Mapping[str, str] | None = None,
    **knobs: object,
) -> MediaApiResource:
    """A connection for every media of the registry (or `media`) from `ARK_{MEDIA}_*`, and
    `ARK_FETCH_MAX_IN_FLIGHT`; `base_urls` and `api_versions` (media name -> URL / version) and
    `knobs` override, as tests do."""
    urls, versions = base_urls or {}, api_versions or {}
    declared = list(media) if media is not None else list(all_media())
    return MediaApiResource(
        media={m.name: default_connection(m, urls.get(m.name), versions.get(m.name)) for m in declared},
        **({"max_in_flight": configured(settings(), "fetch_max_in_flight")} | _path_knobs() | knobs),
    )


def _path_knobs() -> dict[str, object]:
    """The bulk-path knobs: `ARK_BULK_REPORTS`, `ARK_ACTIVITY_FIRST`, `ARK_ASYNC_TASK_COOLDOWN_S` /
    `_POLL_S` / `_WAIT_S` (the settings check them)."""
    s = settings()
    return {
        "bulk_reports": s.bulk_reports,
        "activity_first": s.activity_first,
        "task_cooldown_s": s.async_task_cooldown_s,
        "task_poll_s": s.async_task_poll_s,
        "task_wait_s": s.async_task_wait_s,
    }
