"""Every environment variable of the platform, declared once (`platform.py`, `media.py`) and read
through `settings()` / `media_settings(name)` (`load.py`); the README's table comes from them
(`readme.py`)."""

from ark_assets.settings.load import (
    SettingsError,
    default_of,
    env_name,
    is_set,
    load_settings,
    media_settings,
    platform_from,
    settings,
)
from ark_assets.settings.media import SIMULATOR_URL, MediaSettings
from ark_assets.settings.platform import PlatformSettings

__all__ = [
    "SIMULATOR_URL",
    "MediaSettings",
    "PlatformSettings",
    "SettingsError",
    "default_of",
    "env_name",
    "is_set",
    "load_settings",
    "media_settings",
    "platform_from",
    "settings",
]
