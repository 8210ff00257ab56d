"""A per-account dataset asset (funds, a report level): every account of the day's Redis lists.

Triggered by the account_lists_arrived sensor (the Redis account keys are the contract with the
advertiser lists, which upstream systems may write too), not by automation.
"""

from collections.abc import Mapping

from ark_assets.assets.activity import rows_name
from ark_assets.assets.bulk import variants
from ark_assets.assets.dataset_fetch import DatasetFetch
from ark_assets.assets.families import totals_name
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.sources import day_account_keys, day_accounts, narrow
from ark_assets.assets.specs import asset_key, asset_spec, completeness, empty, fetch_metadata
from ark_assets.core.tables import table_name
from ark_assets.io.rows import RowSpool
from ark_assets.media.declare import AccountDataset, MediaDefinition


def dataset_part(media: MediaDefinition, declared: AccountDataset) -> Part:
    table = table_name(media.name, declared.dataset)
    spec = asset_spec(
        media,
        declared.name,
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
            result, fetched = _fetch(step, media, declared, table)
        except BaseException as error:  # the levels that read this one ask every account instead
            step.exchange.abandon(declared.name, f"{type(error).__name__}: {error}")
            raise
        step.exchange.publish(rows_name(declared.name), fetched.answered)
        step.exchange.publish(totals_name(declared.name), fetched.totals)
        return result

    return Part(name=declared.name, spec=spec, upstream=declared.upstream, fetches=True, work=work)


def _fetch(
    step: StepContext, media: MediaDefinition, declared: AccountDataset, table: str
) -> tuple[PartResult, DatasetFetch]:
    """The dataset's rows for the partition, its bookkeeping, and its fetch (what it answered)."""
    # The lists are read from Redis whether or not they were written in this step: the Redis
    # account keys are the contract (upstream systems write them too).
    listings = media.listings(declared.upstream)
    key = asset_key(media, declared.name)
    config = step.config.for_asset(declared.name)
    day, tenant = step.day, step.tenant
    with step.recorded(key, declared.endpoint, config) as recorder:
        accounts, scope = narrow(day_accounts(step.redis.sets, media, tenant, day, listings), config)
        if not accounts:
            names = ", ".join(listing.name for listing in listings)
            keys = ", ".join(day_account_keys(step.redis.sets, media, tenant, day, listings))
            empty(
                recorder,
                f"the day's {media.name} account lists ({names}) of tenant {tenant} for {day} are empty"
                f" (Redis keys {keys} are missing or empty)",
            )
        run, observer = step.fetch_run(key, recorder)
        spool = RowSpool.create(table, day, tenant, scope_accounts=scope)
        fetch = DatasetFetch(
            step=step, declared=declared, run=run, spool=spool, accounts=accounts, sliced=scope is not None
        )
        summary = fetch.fetch()
        observer.flush()
        if summary.failed_targets:
            # Failed accounts keep the rows an earlier run stored: the IO manager only replaces
            # (and prunes) rows of accounts that this run actually fetched.
            spool.scope_accounts = frozenset(scope or accounts) - summary.failed_targets
        # what the media positively answered (rows, or none: an idle account is an answer)
        spool.covered = frozenset(fetch.answered)
        recorder.succeed(summary, f"{summary.rows} rows")
    expected = len(accounts) * len(variants(declared, day))
    return PartResult(
        spool=spool,
        metadata=fetch_metadata(summary, media=media.name, expected=expected)
        | {"accounts": len(accounts)}
        | step.contract(declared.endpoint),
        summary=summary,
        completeness=completeness(key, summary, expected=expected),
    ), fetch
