"""Asset factories: one media's declarations (`media/<media>.py: ASSETS`) in, Dagster assets out.

Per media and per (day, tenant) partition:
- agents: active `eton` agents joined with their Redis tokens (jrtt: one asset per tier);
- advertisers: each agent's accounts from the media API, written to HBase and to the seed's
  Redis account key for the day (jrtt first tier adds account details, second tier lists
  through the agent report);
- funds and reports: every account of the day's Redis lists, fetched by the engine.
Every fetch asset records its run (MySQL, Kafka, Sentry), accepts the seed's slice config, and
returns a `RowSpool` that the HBase IO manager persists under the row-key design.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    AutomationCondition,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from ark_assets.assets.catalog import AccountDataset, AccountList, AgentList, MediaAssets, record_id
from ark_assets.assets.fetching import FetchSummary, fetch_into_spool
from ark_assets.assets.recording import LoggingObserver, RunRecorder
from ark_assets.assets.run_config import FetchConfig
from ark_assets.assets.sources import day_account_keys, day_accounts, narrow
from ark_assets.fetch.outcome import Outcome, Source
from ark_assets.io.rows import Row, RowSpool
from ark_assets.io.tables import table_name
from ark_assets.media import Media
from ark_assets.partitions import date_tenant_partitions, split_key
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource

IO_MANAGER_KEY = "io_manager"


def media_assets(media: Media, declared: MediaAssets) -> list[AssetsDefinition]:
    """Every asset of one media."""
    return [
        *(agents_asset(media, agents) for agents in declared.agent_lists),
        *(advertisers_asset(media, listing) for listing in declared.account_lists),
        *(dataset_asset(media, dataset, declared.account_lists) for dataset in declared.datasets),
    ]


def _common(media: Media, name: str, dataset: str, *, kind: bool, suffix: bool, group: str) -> dict[str, Any]:
    table = table_name(media, dataset)
    return {
        "key": AssetKey([media.value, name]),
        "group_name": media.value,
        "partitions_def": date_tenant_partitions,
        "io_manager_key": IO_MANAGER_KEY,
        "metadata": {"hbase_table": table, "row_kind": kind, "row_suffix": suffix},
        "kinds": {"hbase", "python"},
        "tags": {"media": media.value, "layer": group},
        "pool": f"media_{media.value}",
    }


# ----- agents


def agents_asset(media: Media, declared: AgentList) -> AssetsDefinition:
    @asset(
        **_common(media, declared.name, declared.dataset, kind=True, suffix=False, group="agents"),
        description=f"Active {media} agents (auth_status 1/2, auth_type 1) of the tenant"
        + (f", {declared.tier} tier" if declared.tier else "")
        + ", joined with whether Redis holds their access token. Also rewrites the seed's agent key.",
    )
    def _agents(
        context: AssetExecutionContext, mysql: MySQLResource, redis: RedisResource
    ) -> Output[RowSpool]:
        day, tenant = split_key(context.partition_key)
        agents = [
            a
            for a in mysql.active_agents(tenant, media)
            if declared.tier is None or a.level == (1 if declared.tier.value == "first" else 2)
        ]
        tokens = redis.tokens(media, tenant)
        redis.write_agents(media, tenant, [a.agent_id for a in agents], tier=declared.tier)
        spool = RowSpool.create(table_name(media, declared.dataset), day, tenant)
        for agent in agents:
            data = {
                "agent_id": agent.agent_id,
                "name": agent.name,
                "level": agent.level,
                "parent_agent_id": agent.parent_agent_id,
                "has_token": agent.agent_id in tokens,
            }
            kind = str(declared.tier or "agent")
            spool.write(Row(agent.agent_id, agent.parent_agent_id or agent.agent_id, data, kind=kind))
        without_token = [a.agent_id for a in agents if a.agent_id not in tokens]
        return Output(
            spool,
            metadata={
                "agents": len(agents),
                "agents_without_token": len(without_token),
                "without_token": ", ".join(without_token[:50]),
            },
        )

    return _agents


# ----- advertisers


def advertisers_asset(media: Media, declared: AccountList) -> AssetsDefinition:
    dataset = declared.dataset

    @asset(
        **_common(media, declared.name, dataset, kind=False, suffix=False, group="advertisers"),
        ins={"agents": AssetIn(AssetKey([media.value, declared.agents]))},
        check_specs=[_completeness_spec(media, declared.name)],
        automation_condition=AutomationCondition.eager(),
        description=f"Each {media} agent's accounts from `{declared.endpoint}`"
        + (f" with details from `{declared.details_endpoint}`" if declared.details_endpoint else "")
        + "; also written to the seed's Redis account key for the day.",
    )
    def _advertisers(
        context: AssetExecutionContext,
        config: FetchConfig,
        agents: list[Row],
        redis: RedisResource,
        mysql: MySQLResource,
        kafka_log: KafkaLogResource,
        sentry: SentryResource,
        media_api: MediaApiResource,
    ) -> Iterator[Output[RowSpool] | AssetCheckResult]:
        day, tenant = split_key(context.partition_key)
        if config.account_list:
            raise Failure("account_list does not apply to advertiser lists: they are fetched per agent")
        chosen = [
            a.account_id for a in agents if not config.agents_list or a.account_id in config.agents_list
        ]
        with _recorded(
            context, media, tenant, day, declared.endpoint, config, mysql, kafka_log, sentry
        ) as recorder:
            if not chosen:
                _empty(recorder, f"no active {media} agents for tenant {tenant}" + _slice_note(config))
            params = dict(declared.params(day))
            sources = [Source(a, a if declared.by_agent_id else None, params) for a in chosen]
            observer = LoggingObserver(recorder, media_api.log_sample_rate)
            spool = RowSpool.create(table_name(media, dataset), day, tenant)
            found: dict[str, str] = {}

            def rows(outcome: Outcome) -> Iterable[Row]:
                # every record is checked before any is taken: a bad one fails the agent's whole list
                agent = outcome.source.agent_id
                where = f"{declared.endpoint}, agent {agent}"
                listed = [
                    (record_id(r, declared.account_field, f"{where}, record {n}"), r)
                    for n, r in enumerate(outcome.records or [], 1)
                ]
                found.update((account, agent) for account, _ in listed)
                if declared.details_endpoint is None:
                    return [Row(account, agent, record) for account, record in listed]
                return []

            summary = fetch_into_spool(
                media=media,
                endpoint=declared.endpoint,
                sources=sources,
                tenant=tenant,
                api=media_api,
                redis=redis,
                observer=observer,
                to_rows=rows,
                spool=spool,
            )
            expected = len(sources)
            if declared.details_endpoint:
                details = _details(media, declared, found, tenant, media_api, redis, observer, spool)
                summary.add(details)
                expected += details.requested  # one outcome per batch of ids
            observer.flush()
            if summary.failed:
                # A failed agent's accounts are unknown this run: keep what earlier runs stored for it;
                # so are the rows of accounts whose details batch failed (jrtt first tier).
                spool.scope_accounts = frozenset(found) - summary.failed_targets
            replaced = set(chosen) - summary.failed_agents
            _write_account_key(
                redis,
                media,
                tenant,
                day,
                declared,
                found,
                replaced_agents=replaced,
                merge=bool(config.agents_list or summary.failed_agents),
            )
            _succeeded(recorder, summary, f"{len(found)} accounts listed")
        yield Output(spool, metadata=_metadata(summary) | {"accounts_listed": len(found)})
        yield _completeness(summary, expected=expected)

    return _advertisers


def _details(
    media: Media,
    declared: AccountList,
    found: dict[str, str],
    tenant: str,
    api: MediaApiResource,
    redis: RedisResource,
    observer: LoggingObserver,
    spool: RowSpool,
) -> FetchSummary:
    """jrtt first tier: account details in batches of ≤ 100 ids of one agent."""
    by_agent: dict[str, list[str]] = {}
    for account, agent in found.items():
        by_agent.setdefault(agent, []).append(account)
    sources = [
        Source(agent, tuple(ids[i : i + declared.details_batch]))
        for agent, ids in by_agent.items()
        for i in range(0, len(ids), declared.details_batch)
    ]

    def rows(outcome: Outcome) -> Iterable[Row]:
        where = f"{declared.details_endpoint}, agent {outcome.source.agent_id}"
        return [
            Row(record_id(r, "id", f"{where}, record {n}"), outcome.source.agent_id, r)
            for n, r in enumerate(outcome.records or [], 1)
        ]

    return fetch_into_spool(
        media=media,
        endpoint=declared.details_endpoint or "",
        sources=sources,
        tenant=tenant,
        api=api,
        redis=redis,
        observer=observer,
        to_rows=rows,
        spool=spool,
    )


def _write_account_key(
    redis: RedisResource,
    media: Media,
    tenant: str,
    day: Any,
    declared: AccountList,
    found: dict[str, str],
    *,
    replaced_agents: set[str],
    merge: bool,
) -> None:
    """The seed's account key(s) for the day.

    A full, clean run replaces the key. A slice (one agent) or a run where some agents' lists
    failed replaces only `replaced_agents`' members and keeps everyone else's as stored.
    """
    if declared.redis_per_agent:
        for agent in replaced_agents:
            members = {a: g for a, g in found.items() if g == agent}
            redis.write_accounts(media, tenant, day, members, agent_id=agent)
        return
    members = dict(found)
    if merge:
        existing = redis.accounts(media, tenant, day, tier=declared.tier)
        members = {a: g for a, g in existing.items() if g not in replaced_agents} | found
    redis.write_accounts(media, tenant, day, members, tier=declared.tier)


# ----- funds and reports


def dataset_asset(
    media: Media, declared: AccountDataset, listings: tuple[AccountList, ...]
) -> AssetsDefinition:
    upstream = tuple(listing for listing in listings if listing.name in declared.upstream)

    @asset(
        **_common(
            media,
            declared.name,
            declared.dataset,
            kind=declared.row_kind,
            suffix=declared.row_suffix,
            group=declared.group,
        ),
        # triggered by the account_lists_arrived sensor (Redis is the contract), not by automation
        deps=[AssetKey([media.value, name]) for name in declared.upstream],
        check_specs=[_completeness_spec(media, declared.name)],
        description=f"`{declared.endpoint}` for every {media} account in the day's Redis account lists"
        + (f", once per time line ({', '.join(declared.time_lines)})" if declared.time_lines else "")
        + f"; stored in `{table_name(media, declared.dataset)}`.",
    )
    def _dataset(
        context: AssetExecutionContext,
        config: FetchConfig,
        redis: RedisResource,
        mysql: MySQLResource,
        kafka_log: KafkaLogResource,
        sentry: SentryResource,
        media_api: MediaApiResource,
    ) -> Iterator[Output[RowSpool] | AssetCheckResult]:
        day, tenant = split_key(context.partition_key)
        with _recorded(
            context, media, tenant, day, declared.endpoint, config, mysql, kafka_log, sentry
        ) as recorder:
            accounts, scope = narrow(day_accounts(redis, media, tenant, day, upstream), config)
            if not accounts:
                lists = ", ".join(listing.name for listing in upstream)
                keys = ", ".join(day_account_keys(redis, media, tenant, day, upstream))
                _empty(
                    recorder,
                    f"the day's {media} account lists ({lists}) of tenant {tenant} for {day} are empty"
                    f" (Redis keys {keys} are missing or empty)",
                )
            params = dict(declared.params(day))
            variants = [params | {"time_line": t} for t in declared.time_lines] or [params]
            sources = (Source(agent, account, p) for p in variants for account, agent in accounts.items())
            observer = LoggingObserver(recorder, media_api.log_sample_rate)
            spool = RowSpool.create(table_name(media, declared.dataset), day, tenant, scope_accounts=scope)
            summary = fetch_into_spool(
                media=media,
                endpoint=declared.endpoint,
                sources=sources,
                tenant=tenant,
                api=media_api,
                redis=redis,
                observer=observer,
                to_rows=declared.rows,
                spool=spool,
            )
            observer.flush()
            if summary.failed_targets:
                # Failed accounts keep the rows an earlier run stored: the IO manager only replaces
                # (and prunes) rows of accounts that this run actually fetched.
                spool.scope_accounts = frozenset(scope or accounts) - summary.failed_targets
            _succeeded(recorder, summary, f"{summary.rows} rows")
        yield Output(spool, metadata=_metadata(summary) | {"accounts": len(accounts)})
        yield _completeness(summary, expected=len(accounts) * len(variants))

    return _dataset


# ----- shared pieces


@contextmanager
def _recorded(
    context: AssetExecutionContext,
    media: Media,
    tenant: str,
    day: Any,
    endpoint: str,
    config: FetchConfig,
    mysql: MySQLResource,
    kafka: KafkaLogResource,
    sentry: SentryResource,
) -> Iterator[RunRecorder]:
    """The run's bookkeeping around the `with` block, with the seed's job parameters (tokens are
    never among them): started on entry; an exception escaping the block is recorded as the
    run's failure (run log, ERROR event, Sentry) and re-raised."""
    job = "/".join(context.asset_key.path)
    params = {
        "agent_id": config.agents_list[0] if config.agents_list else 0,
        "tenant_alias": tenant,
        "data_date": str(day),
        "media_name": str(media),
        "cur_job_name": job,
        "account_list": config.account_list,
        "agents_list": config.agents_list,
        "task_type_list": "SAVE",
        "output": "HBASE",
        "agent_level": "parent",
        "data_type": "day",
        "batch_key": context.run.run_id,
    }
    recorder = RunRecorder(
        media,
        tenant,
        day,
        job,
        endpoint,
        context.run.run_id,
        params,
        mysql,
        kafka,
        sentry,
        agent_id=str(params["agent_id"]),
    ).start()
    try:
        yield recorder
    except Exception as exc:
        recorder.fail(exc)
        raise


def _succeeded(recorder: RunRecorder, summary: FetchSummary, message: str) -> None:
    recorder.succeed(
        requested=summary.requested,
        succeeded=summary.succeeded,
        failed=summary.failed,
        records=summary.records,
        message=message,
    )


def _empty(recorder: RunRecorder, what: str) -> None:
    """An empty source list for a daily partition is an alert, as in the seed, never a silent success."""
    message = f"empty source list: {what}"
    recorder.alert(message)
    raise Failure(message)


def _completeness_spec(media: Media, name: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        "completeness",
        asset=AssetKey([media.value, name]),
        description="Every source of the partition ended in exactly one outcome, and none of them failed.",
    )


def _completeness(summary: FetchSummary, *, expected: int) -> AssetCheckResult:
    """Every account has its rows or a recorded failure; failures make the check fail (ERROR)."""
    accounted = summary.requested == expected == summary.succeeded + summary.failed
    return AssetCheckResult(
        passed=accounted and summary.failed == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "sources_expected": expected,
            "sources_with_outcome": summary.requested,
            "sources_failed": summary.failed,
            "re-run": "materialize the partition again (or only "
            "the failed accounts via account_list) once the cause is fixed",
        },
    )


def _slice_note(config: FetchConfig) -> str:
    return f" (agents_list {config.agents_list[0]})" if config.agents_list else ""


def _metadata(summary: FetchSummary) -> dict[str, Any]:
    failed = "\n".join(f"| {t} | {k} | {c} | {m[:240]} |" for t, k, c, m in summary.failures)
    return {
        "accounts_requested": summary.requested,
        "accounts_succeeded": summary.succeeded,
        "accounts_failed": summary.failed,
        "records": summary.records,
        "rows": summary.rows,
        "requests": summary.requests,
        "throttles": summary.throttles,
        "retries": summary.retries,
        "token_refreshes": summary.refreshes,
        "seconds": MetadataValue.float(round(summary.seconds, 3)),
        "failed_accounts": MetadataValue.md(
            "| source | kind | code | reason |\n|---|---|---|---|\n" + failed if failed else "none"
        ),
    }
