"""`ark-sim`: serve the media simulator, seed a tenant's eton rows and Redis keys, print the truth,
render the contract tables (`contracts`)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from ark_sim.config import SimConfig
from ark_sim.media import registry
from ark_sim.profiles import tenant_alias

logger = logging.getLogger("ark_sim")

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of knobs, merged onto the shipped sim.toml.",
)
_PROFILE = click.option("--profile", help="World size: small or seed (default: the config's).")


def _load(config_path: Path | None, extra: dict[str, Any] | None = None, **overrides: Any) -> SimConfig:
    changes = {**(extra or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return SimConfig.load(config_path, changes)
    except ValueError as exc:
        raise click.ClickException(f"invalid simulator config: {exc}") from exc


def _tenant(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return tenant_alias(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _overrides(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("expected a JSON object of knobs")
    return parsed


def _day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging on stderr.")
def main(verbose: bool) -> None:
    """The ad media API simulator (loopback only): every media of ark_sim/media."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@_CONFIG
@click.option("--port", type=int, help="Port on 127.0.0.1 (default: the config's, 8600).")
@_PROFILE
@click.option(
    "--overrides",
    callback=_overrides,
    help="A JSON object of knobs merged onto the config last (what SimConfig.load's overrides take).",
)
def serve(
    config_path: Path | None, port: int | None, profile: str | None, overrides: dict[str, Any] | None
) -> None:
    """Serve every media on 127.0.0.1 until interrupted."""
    from ark_sim.server import serve as run

    config = _load(config_path, overrides, port=port, profile=profile)
    for spec in registry():
        click.echo(f"{spec.name}: http://{config.host}:{config.port}/{spec.name}")
    click.echo(f"admin: http://{config.host}:{config.port}/admin/counters")
    sys.stdout.flush()
    logger.info(
        "serving profile %r (seed %d) on %s:%d", config.profile, config.seed, config.host, config.port
    )
    run(config)


@main.command()
@click.option("--tenant", required=True, callback=_tenant, help="Tenant alias, e.g. T100117.")
@click.option("--date", "day", required=True, callback=_day, help="The accounts keys' date, YYYY-MM-DD.")
@_PROFILE
@_CONFIG
def seed(tenant: str, day: date, profile: str | None, config_path: Path | None) -> None:
    """Write a tenant's eton rows and Redis keys (ARK_REDIS_* / ARK_MYSQL_* pick the servers)."""
    from ark_sim.seed import MySQLTarget, RedisTarget, TargetUnavailable, seed_tenant
    from ark_sim.world import World

    config = _load(config_path, profile=profile)
    try:
        redis, mysql = RedisTarget.from_env(), MySQLTarget.from_env()
        report = seed_tenant(World(config), tenant, day, redis=redis, mysql=mysql)
    except (ValueError, TargetUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    for key, size in sorted(report.redis_keys.items()):
        logger.info("  %s: %d", key, size)
    click.echo(
        json.dumps(
            {
                "tenant": tenant,
                "date": day.isoformat(),
                "agents": report.agents,
                "redis_keys": report.redis_keys,
            },
            ensure_ascii=False,
        )
    )


@main.command()
@click.option("--tenant", required=True, callback=_tenant, help="Tenant alias, e.g. T100117.")
@click.option("--date", "day", required=True, callback=_day, help="The data date, YYYY-MM-DD.")
@click.option(
    "--api-version",
    "versions",
    multiple=True,
    metavar="MEDIA=VERSION",
    help="The API version a media is fetched with (e.g. <media>=v1.1; repeatable); "
    "default: what it serves today.",
)
@_PROFILE
@_CONFIG
def truth(
    tenant: str, day: date, versions: tuple[str, ...], profile: str | None, config_path: Path | None
) -> None:
    """Print what the platform should find for a tenant and date, as JSON."""
    from ark_sim.truth import truth as compute
    from ark_sim.world import World

    chosen = {}
    for item in versions:
        media, sep, version = item.partition("=")
        if not sep or not media or not version:
            raise click.BadParameter(
                f"{item!r} is not MEDIA=VERSION (e.g. <media>=v1.1)", param_hint="--api-version"
            )
        chosen[media] = version
    config = _load(config_path, profile=profile)
    try:
        result = compute(World(config), tenant, day, chosen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--api-version") from None
    click.echo(json.dumps(result, ensure_ascii=False))


@main.command()
@click.option("--media", "only", help="One media (default: every media).")
@click.option(
    "--write",
    "docs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Splice the tables into DIR/<media>.md (e.g. docs/media) instead of printing them.",
)
def contracts(only: str | None, docs_dir: Path | None) -> None:
    """Print (or write into the media pages) the contract tables the simulator enforces."""
    from ark_sim.contract import render, splice
    from ark_sim.media import lookup

    for spec in [lookup(only)] if only else registry():
        generated = render(spec.contract)
        if docs_dir is None:
            click.echo(generated)
            continue
        page = docs_dir / f"{spec.name}.md"
        page.write_text(splice(page.read_text("utf-8") if page.exists() else "", generated), "utf-8")
        click.echo(f"wrote the contract of {spec.name} into {page}")
