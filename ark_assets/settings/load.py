"""Reading and validating every setting at once: `settings()`, `media_settings(name)`.

The environment is read when asked, never at import, and parsed again only when it changed (so a
test's `monkeypatch.setenv` is seen). Everything is validated together: one `SettingsError` names
every bad variable and what it expects (a secret's value is never repeated), and, with
`ARK_ENV=production`, every variable that must be set and is not (names only). Outside production
a media's unset URL and app fall back to the simulator's; in production there is no such default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names
from ark_assets.settings.fields import fact
from ark_assets.settings.media import SIMULATOR_URL, MediaSettings
from ark_assets.settings.platform import PRODUCTION, PlatformSettings

_OWN = ("ARK_", "DAGSTER_HOME")


class SettingsError(ValueError):
    """The configuration is wrong: every bad or (in production) missing variable, by name."""


@dataclass(frozen=True)
class Loaded:
    platform: PlatformSettings
    media: dict[str, MediaSettings]


def settings() -> PlatformSettings:
    """The platform's settings, validated (a SettingsError naming every bad variable)."""
    return load_settings().platform


def media_settings(media: str) -> MediaSettings:
    """Media `media`'s settings, with the simulator's defaults filled in outside production."""
    loaded = load_settings()
    if media in loaded.media:
        return loaded.media[media]
    return _media(media, production=loaded.platform.production)  # registered since: read it now


def platform_from(environ: Mapping[str, str]) -> PlatformSettings:
    """The platform's settings of another environment (a worker's), `environ` alone, validated."""
    given = {}
    for field in PlatformSettings.model_fields:
        value = environ.get(env_name(PlatformSettings, field), "")
        if value:  # as in the environment: empty is unset
            given[field] = value
    problems: list[str] = []
    parsed = _parsed(lambda: _Given(**given), problems)
    if parsed is None:
        raise SettingsError(_message(problems))
    return parsed


def load_settings() -> Loaded:
    """Every setting of the platform and of each registered media, validated together."""
    return _load(_snapshot(), names())


def default_of(field: str) -> Any:
    """The declared development default of a platform field (resource classes default to it, so a
    default is stated once, in the declaration)."""
    value = PlatformSettings.model_fields[field].default
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def env_name(source: BaseSettings | type[BaseSettings], field: str) -> str:
    """The variable a field of `source` is read from."""
    if isinstance(source, MediaSettings):
        return source.env_name(field)
    model = source if isinstance(source, type) else type(source)
    alias = model.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"ARK_{field.upper()}"


def is_set(source: BaseSettings, field: str) -> bool:
    """Whether the field's variable was set (not empty) in the environment."""
    return source.is_set(field) if isinstance(source, MediaSettings) else field in source.model_fields_set


class _Given(PlatformSettings):
    """PlatformSettings from its keyword arguments only (`platform_from`), not this process's environment."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **others):  # noqa: ANN001, ANN003, ANN206
        return (init_settings,)


def _snapshot() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_OWN)))


@lru_cache(maxsize=8)
def _load(environ: tuple[tuple[str, str], ...], media: tuple[str, ...]) -> Loaded:
    # `environ` is the cache key (pydantic-settings reads os.environ itself), and what production
    # checks: a variable is missing when unset or empty, whether or not the others parsed.
    given = dict(environ)
    problems: list[str] = []
    platform = _parsed(PlatformSettings, problems)
    production = given.get("ARK_ENV", "").strip().lower() == PRODUCTION
    loaded: dict[str, MediaSettings] = {}
    for name in media:
        parsed = _parsed(lambda name=name: MediaSettings.of(name), problems, prefix=f"ARK_{name.upper()}_")
        if parsed is not None:
            loaded[name] = _with_defaults(parsed, name, production)
            problems += _version_problems(loaded[name], name, platform)
    missing = _missing(given, media) + _downloads_missing(given, loaded, platform) if production else []
    if missing:
        problems.append(
            "ARK_ENV=production needs these variables set explicitly (the simulator's and the "
            f"local stack's defaults apply only in development): {', '.join(missing)}"
        )
    if problems or platform is None:
        raise SettingsError(_message(problems))
    return Loaded(platform, loaded)


def _media(name: str, *, production: bool) -> MediaSettings:
    problems: list[str] = []
    parsed = _parsed(lambda: MediaSettings.of(name), problems, prefix=f"ARK_{name.upper()}_")
    if parsed is None:
        raise SettingsError(_message(problems))
    return _with_defaults(parsed, name, production)


def _parsed(make, problems: list[str], prefix: str = "ARK_"):  # noqa: ANN001, ANN202 -- a settings class or factory
    """`make()`, or None with its validation errors added to `problems` (secrets never echoed)."""
    try:
        return make()
    except ValidationError as exc:
        model = PlatformSettings if prefix == "ARK_" else MediaSettings
        problems += [_problem(model, prefix, error) for error in exc.errors()]
        return None


def _problem(model: type[BaseSettings], prefix: str, error: dict) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    info = model.model_fields.get(field)
    if info is None:
        return f"{prefix}{field.upper()}: {error['msg']}"
    alias = info.validation_alias
    name = alias if isinstance(alias, str) else f"{prefix}{field.upper()}"
    expected = fact(info, "expected") or error["msg"]
    if fact(info, "secret"):
        return f"{name}: expected {expected} (the value is a secret and is not shown)"
    return f"{name}={error.get('input')!r}: expected {expected}"


def _with_defaults(parsed: MediaSettings, name: str, production: bool) -> MediaSettings:
    if production:
        return parsed
    declared = media_named(name)
    fill: dict[str, object] = {}
    if not parsed.base_url:
        fill["base_url"] = f"{SIMULATOR_URL}/{name}"
    if not parsed.app_id:
        fill["app_id"] = declared.app.app_id
    if not parsed.app_secret.get_secret_value():
        fill["app_secret"] = SecretStr(declared.app.secret)
    return parsed.model_copy(update=fill) if fill else parsed


def _version_problems(parsed: MediaSettings, name: str, platform: PlatformSettings | None) -> list[str]:
    """A configured API version the media does not declare, named with the variable that set it."""
    variable, wanted = parsed.env_name("api_version"), parsed.api_version
    if not wanted and platform is not None:
        variable, wanted = "ARK_API_VERSIONS", platform.api_versions
    try:
        media_named(name).api_for(wanted)
    except ValueError as exc:
        return [f"{variable}={wanted!r}: {exc}"]
    return []


def _missing(environ: dict[str, str], media: tuple[str, ...]) -> list[str]:
    """The variables production needs that are unset or empty, the platform's then each media's."""
    needed = [
        env_name(PlatformSettings, f)
        for f, info in PlatformSettings.model_fields.items()
        if fact(info, "production")
    ]
    per_media = [f.upper() for f, info in MediaSettings.model_fields.items() if fact(info, "production")]
    needed += [f"ARK_{name.upper()}_{field}" for name in media for field in per_media]
    return [name for name in needed if not environ.get(name)]


def _downloads_missing(
    environ: dict[str, str], loaded: dict[str, MediaSettings], platform: PlatformSettings | None
) -> list[str]:
    """`ARK_<MEDIA>_DOWNLOAD_URL` of each media that downloads report files in its configured API
    version (the bulk paths on) when it is unset: its files' host may not be its API's. With the
    platform's settings unparsed (another error), their declared defaults decide."""
    bulk = platform.bulk_reports if platform is not None else default_of("bulk_reports")
    versions = platform.api_versions if platform is not None else environ.get("ARK_API_VERSIONS", "")
    if not bulk:
        return []
    missing = []
    for name, own in loaded.items():
        variable = own.env_name("download_url")
        try:
            api = media_named(name).api_for(own.api_version or versions)
        except ValueError:
            continue  # reported as a bad version
        if any(e.download for e in api.endpoints.values()) and not environ.get(variable):
            missing.append(variable)
    return missing


def _message(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems with the settings:\n" + "\n".join(f"  - {p}" for p in problems)
