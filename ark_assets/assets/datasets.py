"""A per-account dataset asset (funds, a report level): every account of the day's Redis lists.

Triggered by the account_lists_arrived sensor (the Redis account keys are the contract with the
advertiser lists, which upstream systems may write too), not by automation.
"""

from collections.abc import Iterator
from functools import partial

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output, asset

from ark_assets.assets.fetching import FetchRun
from ark_assets.assets.recording import LoggingObserver
from ark_assets.assets.records import dataset_rows
from ark_assets.assets.run import recorded_run
from ark_assets.assets.run_config import FetchConfig
from ark_assets.assets.sources import day_account_keys, day_accounts, narrow
from ark_assets.assets.specs import (
    asset_key,
    asset_kwargs,
    completeness,
    completeness_spec,
    empty,
    fetch_metadata,
    succeeded,
)
from ark_assets.core.tables import table_name
from ark_assets.fetch.outcome import Source
from ark_assets.io.rows import RowSpool
from ark_assets.media.declare import AccountDataset, MediaDefinition
from ark_assets.partitions import split_key
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.run_log import RunLogResource


def dataset_asset(media: MediaDefinition, declared: AccountDataset) -> AssetsDefinition:
    listings = media.listings(declared.upstream)
    table = table_name(media.name, declared.dataset)

    @asset(
        **asset_kwargs(
            media,
            declared.name,
            declared.dataset,
            kind=declared.row_kind,
            suffix=declared.row_suffix,
            layer=declared.group,
        ),
        deps=[asset_key(media, name) for name in declared.upstream],
        check_specs=[completeness_spec(media, declared.name)],
        description=f"`{declared.endpoint}` for every {media.name} account in the day's Redis account lists"
        + (f", once per time line ({', '.join(declared.time_lines)})" if declared.time_lines else "")
        + f"; stored in `{table}`.",
    )
    def _dataset(
        context: AssetExecutionContext,
        config: FetchConfig,
        redis: RedisResource,
        media_api: MediaApiResource,
        run_log: RunLogResource,
    ) -> Iterator[Output[RowSpool] | AssetCheckResult]:
        day, tenant = split_key(context.partition_key)
        with recorded_run(
            context,
            media=media,
            tenant=tenant,
            day=day,
            endpoint=declared.endpoint,
            config=config,
            run_log=run_log,
        ) as recorder:
            accounts, scope = narrow(day_accounts(redis.sets, media, tenant, day, listings), config)
            if not accounts:
                names = ", ".join(listing.name for listing in listings)
                keys = ", ".join(day_account_keys(redis.sets, media, tenant, day, listings))
                empty(
                    recorder,
                    f"the day's {media.name} account lists ({names}) of tenant {tenant} for {day} are empty"
                    f" (Redis keys {keys} are missing or empty)",
                )
            params = dict(declared.params(day))
            variants = [params | {"time_line": t} for t in declared.time_lines] or [params]
            sources = (Source(agent, account, p) for p in variants for account, agent in accounts.items())
            observer = LoggingObserver(recorder=recorder, sample_rate=media_api.log_sample_rate)
            run = FetchRun(media=media, tenant=tenant, api=media_api, redis=redis.sets, observer=observer)
            spool = RowSpool.create(table, day, tenant, scope_accounts=scope)
            summary = run.fetch(
                declared.endpoint, sources, to_rows=partial(dataset_rows, declared), spool=spool
            )
            observer.flush()
            if summary.failed_targets:
                # Failed accounts keep the rows an earlier run stored: the IO manager only replaces
                # (and prunes) rows of accounts that this run actually fetched.
                spool.scope_accounts = frozenset(scope or accounts) - summary.failed_targets
            succeeded(recorder, summary, f"{summary.rows} rows")
        yield Output(spool, metadata=fetch_metadata(summary) | {"accounts": len(accounts)})
        yield completeness(summary, expected=len(accounts) * len(variants))

    return _dataset
