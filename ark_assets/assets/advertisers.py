"""An advertisers asset: each agent's accounts from the media API, stored and written to Redis.

The day's Redis account key is the contract with everything downstream (the funds and report
assets, the legacy jobs, the account-list sensor), so it is written in the seed's format. With
account details declared (a second endpoint), the stored rows hold the details.
"""

from collections.abc import Iterable, Mapping
from datetime import date

from dagster import AutomationCondition

from ark_assets.assets.activity import agent_rows_name
from ark_assets.assets.expected import expected_agents
from ark_assets.assets.fetching import FetchRun
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.records import record_id
from ark_assets.assets.specs import asset_key, asset_spec, completeness, empty, fetch_metadata, slice_note
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.core.days import yesterday
from ark_assets.core.tables import table_name
from ark_assets.fetch.outcome import Outcome, Source
from ark_assets.fetch.summary import FetchSummary
from ark_assets.io.coverage import Coverage
from ark_assets.io.layout import layout_metadata
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.api import no_params
from ark_assets.media.bulk import active
from ark_assets.media.declare import AccountList, MediaDefinition

NOT_PER_ACCOUNT = "account_list does not apply to advertiser lists: they are fetched per agent"


def advertisers_part(media: MediaDefinition, declared: AccountList) -> Part:
    spec = asset_spec(
        media,
        declared.name,
        declared.dataset,
        kind=False,
        suffix=False,
        layer="advertisers",
        upstream=(declared.agents,),
        automation_condition=AutomationCondition.eager(),
        description=f"Each {media.name} agent's accounts from `{declared.endpoint}`"
        + (f" with details from `{declared.details_endpoint}`" if declared.details_endpoint else "")
        + "; also written to the seed's Redis account key for the day.",
    )

    def work(step: StepContext, upstream: Mapping[str, PartResult]) -> PartResult:
        try:
            return _list_accounts(step, media, declared, _chosen_agents(step, media, declared, upstream))
        except BaseException as error:  # the activity signal asks these agents itself
            step.exchange.fail(agent_rows_name(declared.name), error)
            raise

    return Part(name=declared.name, spec=spec, upstream=(declared.agents,), fetches=True, work=work)


def _chosen_agents(
    step: StepContext, media: MediaDefinition, declared: AccountList, upstream: Mapping[str, PartResult]
) -> list[str]:
    """The agents whose accounts are listed: the agent list of this step, or as an earlier run
    stored it; a slice's `agents_list` narrows it. (An `account_list` for an advertiser list is
    refused before the step runs anything: `media_step._check_config`.)"""
    config = step.config.for_asset(declared.name)
    if declared.agents in upstream:  # listed in this step
        agent_rows = upstream[declared.agents].rows
    else:  # as an earlier run stored them
        agents = next(a for a in media.assets.agent_lists if a.name == declared.agents)
        layout = layout_metadata(table_name(media.name, agents.dataset), kind=True, suffix=False)
        agent_rows = step.io_manager.load_partition(
            layout, f"{media.name}/{agents.name}", step.day, step.tenant
        )
    return [a.account_id for a in agent_rows if not config.agents_list or a.account_id in config.agents_list]


def _list_accounts(
    step: StepContext, media: MediaDefinition, declared: AccountList, chosen: list[str]
) -> PartResult:
    """Each chosen agent's accounts (and their details), stored and written to the day's Redis key."""
    key = asset_key(media, declared.name)
    config = step.config.for_asset(declared.name)
    day, tenant = step.day, step.tenant
    with step.recorded(key, declared.endpoint, config) as recorder:
        if not chosen:
            empty(recorder, f"no active {media.name} agents for tenant {tenant}" + slice_note(config))
        params = dict(declared.params(day))
        sources = [Source(a, a if declared.by_agent_id else None, params) for a in chosen]
        run, observer = step.fetch_run(key, recorder)
        spool = RowSpool.create(table_name(media.name, declared.dataset), day, tenant)
        spool.source = step.contract_label(declared.endpoint)
        found: dict[str, str] = {}
        summary = _fetch_listings(step, media, declared, run, sources, spool, found)
        # one listing per agent of the Redis agent key, counted apart from the agents fetched (expected.py)
        agents = expected_agents(
            step.redis.sets, media, tenant, declared.tier, fetched=chosen, agents_list=config.agents_list
        )
        expected = agents.sources
        if declared.details_endpoint:
            details = _details(run, declared, found, spool)
            summary.add(details)
            expected += details.requested  # one outcome per batch of ids
        observer.flush()
        # An agent whose listing succeeded answered for all of its accounts: its stored rows of
        # accounts it no longer lists may go. A failed agent's accounts are unknown this run, and
        # so are those whose details batch failed: their rows are kept, as are the rows of agents
        # a slice did not choose. A listing without a date answers for now, not for an older day:
        # it then only adds and overwrites.
        answers_for_day = declared.params is not no_params or day >= yesterday()
        spool.covered = Coverage(
            accounts=frozenset(found) - summary.failed_targets,
            agents=frozenset(chosen) - summary.failed_agents if answers_for_day else frozenset(),
            excluded=frozenset(summary.failed_targets),
        )
        _write_account_key(
            step.redis.sets,
            media,
            declared,
            tenant=tenant,
            day=day,
            found=found,
            replaced_agents=set(chosen) - summary.failed_agents,
            merge=bool(config.agents_list or summary.failed_agents),
        )
        recorder.succeed(summary, f"{len(found)} accounts listed")
    return PartResult(
        spool=spool,
        metadata=fetch_metadata(summary, media=media.name, expected=expected)
        | {"accounts_listed": len(found)}
        | step.contract(declared.endpoint),
        summary=summary,
        completeness=completeness(key, summary, expected=expected, **agents.metadata()),
    )


def _fetch_listings(
    step: StepContext,
    media: MediaDefinition,
    declared: AccountList,
    run: FetchRun,
    sources: list[Source],
    spool: RowSpool,
    found: dict[str, str],
) -> FetchSummary:
    """Every chosen agent's listing, into `spool` and `found`; when the listing is the media's
    activity signal (jrtt's agent report), who was active is handed to the reports."""
    signal = media.assets.activity
    activity: dict[str, bool] | None = (
        {} if signal is not None and signal.endpoint == declared.endpoint else None
    )
    to_rows = _listing_rows(declared, found, activity, signal.fields if signal else ())
    summary = run.fetch(declared.endpoint, sources, to_rows=to_rows, spool=spool)
    if activity is not None:
        answered = {s.agent_id for s in sources} - summary.failed_agents
        step.exchange.publish(agent_rows_name(declared.name), (answered, activity))
    return summary


def _listing_rows(
    declared: AccountList, found: dict[str, str], activity: dict[str, bool] | None, fields: tuple[str, ...]
):
    """Rows of one agent's listing; every listed account is also noted in `found` (account -> agent)
    and, when the listing is the activity signal, in `activity` (account -> active).

    Every record is checked before any is taken: a bad one fails the agent's whole list.
    """

    def rows(outcome: Outcome) -> Iterable[Row]:
        agent = outcome.source.agent_id
        where = f"{declared.endpoint}, agent {agent}"
        listed = [
            (record_id(r, declared.account_field, f"{where}, record {n}"), r)
            for n, r in enumerate(outcome.records or [], 1)
        ]
        found.update((account, agent) for account, _ in listed)
        if activity is not None:
            activity.update((account, active(record, fields)) for account, record in listed)
        if declared.details_endpoint is None:
            return [Row(account, agent, record) for account, record in listed]
        return []

    return rows


def _details(run: FetchRun, declared: AccountList, found: dict[str, str], spool: RowSpool) -> FetchSummary:
    """Account details in batches of ≤ `details_batch` ids of one agent."""
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
            Row(record_id(r, declared.details_id_field, f"{where}, record {n}"), outcome.source.agent_id, r)
            for n, r in enumerate(outcome.records or [], 1)
        ]

    return run.fetch(declared.details_endpoint or "", sources, to_rows=rows, spool=spool)


def _write_account_key(
    redis: RedisSets,
    media: MediaDefinition,
    declared: AccountList,
    *,
    tenant: str,
    day: date,
    found: dict[str, str],
    replaced_agents: set[str],
    merge: bool,
) -> None:
    """The seed's account key(s) for the day.

    A full, clean run replaces the key. A slice (one agent) or a run where some agents' lists
    failed replaces only `replaced_agents`' members and keeps everyone else's as stored.
    """
    tier = declared.tier
    if media.redis.per_agent(tier):
        for agent in replaced_agents:
            members = {a: g for a, g in found.items() if g == agent}
            redis.write_accounts(media, tenant, day, members, tier=tier, agent_id=agent)
        return
    members = dict(found)
    if merge:
        existing = redis.accounts(media, tenant, day, tier=tier)
        members = {a: g for a, g in existing.items() if g not in replaced_agents} | found
    redis.write_accounts(media, tenant, day, members, tier=tier)
