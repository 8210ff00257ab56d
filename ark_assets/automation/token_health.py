"""Token health: per media and agent, tokens that died, were refused or expire soon, seen before a run fails.

The `token_health` sensor (every `ARK_TOKEN_HEALTH_INTERVAL_S`, 600 s) reads, for every tenant
and media, the agents of each agent key, their tokens and refresh tokens (the seed's keys) and
what the refresher recorded of each pair (`clients/token_health.py`), and judges each agent
(`token_state.py`; `ARK_TOKEN_WARN_DAYS`, 7 days ahead by default). It reports the
`token_health` check of each agent-list asset for the tenant's latest partition (the asset's
*Checks* tab: red for a dead or refused token, yellow for one expiring, a table of every agent),
and sends one Sentry alert per agent each time it enters a bad state. The check can also be
executed on demand; the jobs leave it out, as they leave `in_by_0900`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    MetadataValue,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    multi_asset_check,
    sensor,
)

from ark_assets.automation.token_state import ALERTED, DAY_S, ERRORS, ORDER, AgentToken, assess, when
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.clients.token_health import TokenHealth
from ark_assets.core.days import GMT8, yesterday
from ark_assets.media.declare import AgentList, MediaDefinition
from ark_assets.partitions import partition_key, split_key, tenant_partitions
from ark_assets.resources.media_api import deployed_assets
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource

CHECK = "token_health"
REPORT_EVERY_S = DAY_S  # an unchanged evaluation is reported again once a day (its days left move)


def warn_days() -> float:
    value = os.environ.get("ARK_TOKEN_WARN_DAYS", "7")
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if days < 0:
        raise ValueError(f"ARK_TOKEN_WARN_DAYS={value!r}: expected a number of days >= 0, e.g. 7")
    return days


def agent_lists(media: Sequence[MediaDefinition]) -> list[tuple[MediaDefinition, AgentList, AssetKey]]:
    return [(m, a, AssetKey([m.name, a.name])) for m in media for a in deployed_assets(m).agent_lists]


def not_in_jobs(media: Sequence[MediaDefinition]) -> AssetSelection:
    """The token-health checks, which the jobs leave out: the sensor evaluates them."""
    return AssetSelection.checks(*(AssetCheckKey(key, CHECK) for _, _, key in agent_lists(media)))


def agent_tokens(
    sets: RedisSets, media: MediaDefinition, agents: AgentList, tenant: str, now: float
) -> list[AgentToken]:
    """Every agent of the agent key of `agents`' tier, judged as of `now`."""
    ids = sets.agents(media, tenant, tier=agents.tier)
    tokens = sets.tokens(media, tenant)
    refresh = sets.refresh_tokens(media, tenant)
    records = TokenHealth(sets).observe(media.name, tenant, {a: refresh.get(a) for a in ids}, now)
    life, days = media.api.refresh.life, warn_days()
    return [
        assess(
            a,
            records.get(a),
            has_token=a in tokens,
            has_refresh_token=a in refresh,
            life=life,
            now=now,
            warn_days=days,
        )
        for a in ids
    ]


def judged(found: list[AgentToken], now: float) -> dict:
    """The check's verdict on `found` (passed, severity, description, metadata with every agent)."""
    worst = min((ORDER.index(t.state) for t in found), default=ORDER.index("ok"))
    bad = ORDER[worst] in ALERTED
    rows = "\n".join(
        f"| {t.agent_id} | {t.state} | {t.detail} | {when(t.refresh_expires_at)} | "
        f"{'' if t.refresh_expires_at is None else round((t.refresh_expires_at - now) / DAY_S, 1)} |"
        for t in sorted(found, key=lambda t: (ORDER.index(t.state), t.agent_id))
    )
    counts = {state: sum(t.state == state for t in found) for state in ORDER}
    return {
        "passed": not bad,
        "severity": AssetCheckSeverity.ERROR if ORDER[worst] in ERRORS else AssetCheckSeverity.WARN,
        "description": f"{sum(t.state in ALERTED for t in found)} agents need attention" if bad else None,
        "metadata": {
            "agents": len(found),
            **{f"agents_{state}": n for state, n in counts.items() if n},
            "agents_table": MetadataValue.md(
                f"| agent | state | detail | refresh token dies | days left |\n|---|---|---|---|---|\n{rows}"
            ),
        },
    }


def _alert(sentry: SentryResource, media: MediaDefinition, tenant: str, token: AgentToken) -> None:
    sentry.capture_message(
        f"{media.name} agent {token.agent_id} of tenant {tenant}: {token.detail}",
        tenant=tenant,
        media=media.name,
        level="error" if token.state in ERRORS else "warning",
        agent_id=token.agent_id,
        extra={"token_state": token.state},
    )


def alert_changes(
    health: TokenHealth, sentry: SentryResource, media: MediaDefinition, tenant: str, found: list[AgentToken]
) -> int:
    """One alert per agent entering a bad state; an agent back to fine can alert again later."""
    alerted, sent = health.alerted(media.name, tenant), 0
    for token in found:
        if token.state in ALERTED and alerted.get(token.agent_id) != token.state:
            _alert(sentry, media, tenant, token)
            health.mark_alerted(media.name, tenant, token.agent_id, token.state)
            sent += 1
        elif token.state not in ALERTED and token.agent_id in alerted:
            health.mark_alerted(media.name, tenant, token.agent_id, None)
    return sent


def watch(
    tenants: Sequence[str],
    media: Sequence[MediaDefinition],
    sets: RedisSets,
    sentry: SentryResource,
    now: float,
    cursor: str | None,
) -> SensorResult | SkipReason:
    """One tick: every tenant's agent lists judged; evaluations that changed (or are a day old)
    reported, one alert per agent and state change."""
    seen = json.loads(cursor) if cursor else {}
    events, alerts = [], 0
    day = yesterday(datetime.fromtimestamp(now, GMT8))
    for tenant in tenants:
        for one, agents, key in agent_lists(media):
            found = agent_tokens(sets, one, agents, tenant, now)
            alerts += alert_changes(TokenHealth(sets), sentry, one, tenant, found)
            signature = sorted([t.agent_id, t.state] for t in found)  # as the JSON cursor holds it
            slot = f"{key.to_user_string()}|{tenant}"
            last = seen.get(slot)
            if last and last[0] == signature and now - last[1] < REPORT_EVERY_S:
                continue
            partition = str(partition_key(day, tenant))
            events.append(
                AssetCheckEvaluation(
                    asset_key=key, check_name=CHECK, partition=partition, **judged(found, now)
                )
            )
            seen[slot] = [signature, now]
    cursor = json.dumps({k: v for k, v in seen.items() if k.rsplit("|", 1)[1] in set(tenants)})
    if not events:
        return SkipReason(f"{len(tenants)} tenants: no token changed state ({alerts} alerts)")
    return SensorResult(asset_events=events, cursor=cursor)


def token_health_sensor(media: Sequence[MediaDefinition]):
    interval = int(os.environ.get("ARK_TOKEN_HEALTH_INTERVAL_S", "600"))

    @sensor(
        name="token_health",
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Every agent's tokens: expired, refused, or a refresh token dying within "
        "ARK_TOKEN_WARN_DAYS; reports the token_health check of each agent list, one alert per "
        "agent and state change.",
    )
    def token_health(
        context: SensorEvaluationContext, redis: RedisResource, sentry: SentryResource
    ) -> SensorResult | SkipReason:
        tenants = context.instance.get_dynamic_partitions(tenant_partitions.name)
        return watch(tenants, media, redis.sets, sentry, time.time(), context.cursor)

    return token_health


def token_health_checks(media: Sequence[MediaDefinition]) -> AssetChecksDefinition:
    """The `token_health` check of every agent list (the sensor reports it; executable on demand)."""
    keys = {key: (one, agents) for one, agents, key in agent_lists(media)}

    @multi_asset_check(
        name="token_health",
        can_subset=True,
        specs=[
            AssetCheckSpec(
                CHECK,
                asset=key,
                description="Every agent's access token is alive or refreshable, its refresh token was "
                "not refused and does not expire within ARK_TOKEN_WARN_DAYS (the token_health sensor).",
            )
            for key in keys
        ],
    )
    def _token_health(context, redis: RedisResource) -> Iterator[AssetCheckResult]:  # noqa: ANN001
        # on demand: the run's tenant, else every tenant's agents in one table
        now = time.time()
        run_key = context.run.tags.get("dagster/partition")
        tenants = (
            [split_key(run_key)[1]]
            if run_key
            else context.instance.get_dynamic_partitions(tenant_partitions.name)
        )
        for check in context.selected_asset_check_keys:
            one, agents = keys[check.asset_key]
            found = [t for tenant in tenants for t in agent_tokens(redis.sets, one, agents, tenant, now)]
            yield AssetCheckResult(asset_key=check.asset_key, check_name=CHECK, **judged(found, now))

    return _token_health
