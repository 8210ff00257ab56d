"""Where each media's API lives and which app calls it: configuration, never code.

Defaults point at the simulator on loopback (`ark-sim serve`, port 8600) with its default
apps, so the demo and tests need no configuration; production sets `ARK_{MEDIA}_BASE_URL`,
`ARK_{MEDIA}_APP_ID` and `ARK_{MEDIA}_APP_SECRET` (secrets reach Dagster as `EnvVar`s).
"""

from __future__ import annotations

from dagster import ConfigurableResource

from ark_assets.fetch.engine import App, EngineSettings
from ark_assets.fetch.governor import GovernorSettings
from ark_assets.media import Media
from ark_assets.resources.env import env_int, env_str

SIMULATOR_URL = "http://127.0.0.1:8600"
_DEFAULT_APPS = {
    Media.GDT: ("1110001", "gdt-secret"),
    Media.JRTT: ("1700000000001", "jrtt-secret"),
    Media.WX: ("1110002", "wx-secret"),
}


class MediaApiResource(ConfigurableResource):
    """Base URLs, app credentials and engine knobs for the three media.

    Args:
        gdt_base_url / jrtt_base_url / wx_base_url: the API roots (the part before `/v1.1/...`
            or `/open_api/...`).
        *_app_id / *_app_secret: the developer app whose quota and refresh credentials runs use.
        max_in_flight: accounts fetched concurrently per run.
        initial_rate: calls/s a fresh rate governor starts at (it then adapts and is shared).
        timeout_s: per HTTP call.
        log_sample_rate: share of responses written to the MySQL request/response logs
            (errors and throttles are always logged).
    """

    gdt_base_url: str = f"{SIMULATOR_URL}/gdt"
    jrtt_base_url: str = f"{SIMULATOR_URL}/jrtt"
    wx_base_url: str = f"{SIMULATOR_URL}/wx"
    gdt_app_id: str = _DEFAULT_APPS[Media.GDT][0]
    gdt_app_secret: str = _DEFAULT_APPS[Media.GDT][1]
    jrtt_app_id: str = _DEFAULT_APPS[Media.JRTT][0]
    jrtt_app_secret: str = _DEFAULT_APPS[Media.JRTT][1]
    wx_app_id: str = _DEFAULT_APPS[Media.WX][0]
    wx_app_secret: str = _DEFAULT_APPS[Media.WX][1]
    max_in_flight: int = 100
    initial_rate: float = 100.0
    timeout_s: float = 30.0
    log_sample_rate: float = 0.01

    def base_url(self, media: Media | str) -> str:
        return getattr(self, f"{Media.parse(media)}_base_url")

    def app(self, media: Media | str) -> App:
        media = Media.parse(media)
        return App(getattr(self, f"{media}_app_id"), getattr(self, f"{media}_app_secret"))

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            max_in_flight=self.max_in_flight,
            timeout_s=self.timeout_s,
            governor=GovernorSettings(initial_rate=self.initial_rate),
        )


def media_api_resource_from_env() -> MediaApiResource:
    """ARK_{GDT,JRTT,WX}_{BASE_URL,APP_ID,APP_SECRET}, ARK_FETCH_MAX_IN_FLIGHT; simulator defaults."""
    fields: dict[str, object] = {}
    for media in Media:
        upper = media.value.upper()
        fields[f"{media}_base_url"] = env_str(f"ARK_{upper}_BASE_URL", f"{SIMULATOR_URL}/{media}")
        fields[f"{media}_app_id"] = env_str(f"ARK_{upper}_APP_ID", _DEFAULT_APPS[media][0])
        fields[f"{media}_app_secret"] = env_str(f"ARK_{upper}_APP_SECRET", _DEFAULT_APPS[media][1])
    fields["max_in_flight"] = env_int("ARK_FETCH_MAX_IN_FLIGHT", 100)
    return MediaApiResource(**fields)
