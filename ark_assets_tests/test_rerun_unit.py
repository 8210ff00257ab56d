"""Failed accounts as data, and `ark-assets rerun-failed`'s answers, without any service.

The JSON a program reads holds every failed id (not only the listed failures) with the media,
kind, code, message and attempts; the re-run slice is the accounts, or an advertiser list's
agents; the CLI names bad input and says when nothing failed (a real SQLite instance).
"""

from __future__ import annotations

from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance

from ark_assets.assets.failures import FAILED_JSON, FAILED_TABLE, LastFailures, failure_metadata, rerun_slice
from ark_assets.cli import main
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.summary import MAX_FAILURES_KEPT, FetchSummary
from ark_assets.partitions import tenant_partitions


def _failed(account: str, agent: str = "7") -> Outcome:
    failure = Failure(media="gdt", kind="TokenInvalid", code=11019, message="token expired", attempts=3)
    return Outcome(Source(agent, account), records=None, failure=failure, attempts=3, throttles=0, pages=0)


def test_every_failed_id_is_in_the_json_even_past_the_listed_failures() -> None:
    summary = FetchSummary()
    accounts = [str(1000 + i) for i in range(MAX_FAILURES_KEPT + 5)]
    for account in accounts:
        summary.count(_failed(account))
    metadata = failure_metadata(summary, media="gdt")
    record = metadata[FAILED_JSON].value
    assert record["failed"] == len(accounts) and record["account_ids"] == sorted(accounts)
    assert record["failures_listed"] == MAX_FAILURES_KEPT and record["agent_ids"] == ["7"]
    assert record["failed_by_kind"] == {"TokenInvalid": len(accounts)}
    assert record["failures"][0] == {
        "source": "1000",
        "agent_id": "7",
        "media": "gdt",
        "kind": "TokenInvalid",
        "code": "11019",
        "message": "token expired",
        "attempts": 3,
    }
    assert "| 1000 | TokenInvalid | 11019 | 3 | token expired |" in metadata[FAILED_TABLE].value


def test_a_clean_fetch_says_none() -> None:
    metadata = failure_metadata(FetchSummary(), media="wx")
    assert metadata[FAILED_JSON].value["failed"] == 0 and metadata[FAILED_TABLE].value == "none"


def test_the_rerun_slice_is_the_accounts_or_a_listings_agents() -> None:
    failed = LastFailures(
        asset=AssetKey(["gdt", "funds"]),
        run_id="r1",
        failed=3,
        account_ids=("11", "12", "13"),
        agent_ids=("7", "8"),
        kinds={"TokenInvalid": 3},
    )
    assert rerun_slice(failed, per_agent=False).account_list == ["11", "12", "13"]
    listing = rerun_slice(failed, per_agent=True)
    assert listing.agents_list == ["7", "8"] and listing.account_list == []


def test_the_cli_needs_an_instance() -> None:
    result = CliRunner().invoke(main, ["rerun-failed", "2026-11-20|T100117"], env={"DAGSTER_HOME": ""})
    assert result.exit_code == 1 and "DAGSTER_HOME is not set" in result.output


def test_the_cli_names_a_bad_key_and_says_when_nothing_failed(tmp_path) -> None:
    home = str(tmp_path)
    with DagsterInstance.from_config(home) as instance:
        instance.add_dynamic_partitions(tenant_partitions.name, ["T100117"])
    runner = CliRunner()
    unknown = runner.invoke(main, ["rerun-failed", "2026-11-20|T999"], env={"DAGSTER_HOME": home})
    assert unknown.exit_code == 1 and "tenant 'T999' is not a tenant partition" in unknown.output
    clean = runner.invoke(main, ["rerun-failed", "2026-11-20|T100117"], env={"DAGSTER_HOME": home})
    assert clean.exit_code == 0, clean.output
    assert "nothing failed in the latest materializations; nothing to re-run" in clean.output
