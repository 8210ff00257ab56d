"""A per-account dataset asset (funds, a report level): every account of the day's Redis lists.

Triggered by the account_lists_arrived sensor (the Redis account keys are the contract with the
advertiser lists, which upstream systems may write too), not by automation. A dataset declared
`intraday` also has an intraday twin (`intraday=True`, `intraday.py`): today's data so far, from
the previous day's account lists, into the same table.
"""

from collections.abc import Mapping
from datetime import date, timedelta

from ark_assets.assets.activity import rows_name
from ark_assets.assets.bulk import variants
from ark_assets.assets.dataset_fetch import DatasetFetch
from ark_assets.assets.expected import expected_accounts
from ark_assets.assets.families import totals_name
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.recording import RunRecorder
from ark_assets.assets.run_config import FetchConfig
from ark_assets.assets.sources import day_account_keys, day_accounts, narrow
from ark_assets.assets.specs import (
    INTRADAY_PREFIX,
    asset_key,
    asset_spec,
    completeness,
    empty,
    fetch_metadata,
    intraday_spec,
)
from ark_assets.core.tables import table_name
from ark_assets.io.coverage import Coverage
from ark_assets.io.rows import RowSpool
from ark_assets.media.declare import AccountDataset, AccountList, MediaDefinition


def dataset_part(media: MediaDefinition, declared: AccountDataset, *, intraday: bool = False) -> Part:
    table = table_name(media.name, declared.dataset)
    name = f"{INTRADAY_PREFIX}{declared.name}" if intraday else declared.name
    spec = asset_spec(
        media,
        name,
        declared.dataset,
        kind=declared.row_kind,
        suffix=declared.row_suffix,
        layer=declared.group,
        upstream=declared.upstream,
        description=f"`{declared.endpoint}` for every {media.name} account in the day's Redis account lists"
        + (f", once per time line ({', '.join(declared.time_lines)})" if declared.time_lines else "")
        + f"; stored in `{table}`.",
    )

    def work(step: StepContext, upstream: Mapping[str, PartResult]) -> PartResult:
        try:
            result, fetched = _fetch(step, media, declared, table=table, name=name)
        except BaseException as error:  # the levels that read this one ask every account instead
            step.exchange.abandon(declared.name, f"{type(error).__name__}: {error}")
            raise
        step.exchange.publish(rows_name(declared.name), fetched.answered)
        step.exchange.publish(totals_name(declared.name), fetched.totals)
        return result

    if intraday:
        spec = intraday_spec(spec, declared.endpoint, table)
    upstream = () if intraday else declared.upstream
    return Part(name=name, spec=spec, upstream=upstream, fetches=True, work=work)


def _fetch(
    step: StepContext, media: MediaDefinition, declared: AccountDataset, *, table: str, name: str
) -> tuple[PartResult, DatasetFetch]:
    """The dataset's rows for the partition, its bookkeeping, and its fetch (what it answered)."""
    # The lists are read from Redis whether or not they were written in this step: the Redis
    # account keys are the contract (upstream systems write them too).
    listings, key = media.listings(declared.upstream), asset_key(media, name)
    config = step.config.for_asset(name)
    day, tenant = step.day, step.tenant
    lists_day = day - timedelta(days=1) if step.intraday_hour is not None else day
    with step.recorded(key, declared.endpoint, config) as recorder:
        accounts, scope = _listed(step, media, listings, lists_day, config, recorder)
        run, observer = step.fetch_run(key, recorder)
        spool = RowSpool.create(table, day, tenant)
        spool.source = step.contract_label(declared.endpoint)
        # a slice re-run or an intraday refresh asks exactly its accounts, one by one
        direct = scope is not None or step.intraday_hour is not None
        fetch = DatasetFetch(
            step=step, declared=declared, run=run, spool=spool, accounts=accounts, direct=direct
        )
        summary = fetch.fetch()
        observer.flush()
        # only accounts the media answered for, completely (an idle one included), may lose
        # stored rows (io/coverage.py)
        spool.covered = Coverage.answered(fetch.answered, summary.failed_targets)
        recorder.succeed(summary, f"{summary.rows} rows")
    # the sources expected, counted again from Redis (not from the list the fetch walked)
    calls = len(variants(declared, day))
    listed = expected_accounts(step, listings, lists_day, fetched=accounts, scope=scope, variants=calls)
    return PartResult(
        spool=spool,
        metadata=fetch_metadata(summary, media=media.name, expected=listed.sources)
        | {"accounts": len(accounts)}
        | step.contract(declared.endpoint)
        | _intraday_metadata(step.intraday_hour, lists_day),
        summary=summary,
        completeness=completeness(key, summary, expected=listed.sources, **listed.metadata()),
    ), fetch


def _listed(
    step: StepContext,
    media: MediaDefinition,
    listings: tuple[AccountList, ...],
    day: date,
    config: FetchConfig,
    recorder: RunRecorder,
) -> tuple[dict[str, str], frozenset[str] | None]:
    """The accounts of `day`'s Redis lists to fetch (and a slice's scope); empty lists are an alert."""
    accounts, scope = narrow(day_accounts(step.redis.sets, media, step.tenant, day, listings), config)
    if not accounts:
        names = ", ".join(listing.name for listing in listings)
        keys = ", ".join(day_account_keys(step.redis.sets, media, step.tenant, day, listings))
        empty(
            recorder,
            f"the day's {media.name} account lists ({names}) of tenant {step.tenant} for {day} are "
            f"empty (Redis keys {keys} are missing or empty)",
        )
    return accounts, scope


def _intraday_metadata(hour: int | None, lists_day: date) -> dict:
    """What an intraday refresh covers: hours before `up_to_hour` (GMT+8), the accounts of `lists_day`."""
    if hour is None:
        return {}
    return {"up_to_hour": hour, "account_lists_of": str(lists_day)}
