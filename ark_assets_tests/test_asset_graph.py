"""The asset graph end to end: a `small` tenant's partition materialized against the simulator
and the real stack.

The contract: every HBase table holds exactly the rows `ark-sim truth` expects for the tenant
and date; the seed's Redis account keys are written; MySQL holds a run-log row per fetch asset
with its parameters and no token; Kafka carries START/END events; a re-run changes no row
count; a slice re-run (account_list / agents_list) rewrites only its slice; bad slice config
and an empty source list fail clearly (the latter with a Sentry alert); the stored records are
those of the configured API version (`make test` runs this module with the default versions and
again with `ARK_API_VERSIONS=notes`); the whole partition meets none of the media's refusals; jrtt's
reports keep deleted entities and read upgraded accounts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pymysql
import pytest
import redis
from dagster import AssetKey, materialize

from ark_assets.assets.build import media_assets
from ark_assets.clients.redis_keys import accounts_key
from ark_assets.core.tables import table_name
from ark_assets.core.tiers import AgentTier
from ark_assets.media import gdt, tencent_reports, wx
from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import partition_key
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.kafka_reader import consume_events
from ark_assets_tests.platform import ASSETS, DAY, Platform, api_versions, running_platform
from ark_sim.truth import truth

pytestmark = [pytest.mark.stack, pytest.mark.api_paths]  # the real services; run in both API versions

# ##### FIXTURES


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform() as platform:
        yield platform


def _tables(platform: Platform) -> dict[str, int]:
    return platform.tables()


# ##### TESTS


def test_every_table_holds_exactly_the_truth(platform: Platform) -> None:
    expected = truth(platform.sim.world, platform.tenant, DAY, api_versions())["tables"]
    assert _tables(platform) == expected
    assert all(expected.values())  # every table got rows for a small tenant


def test_the_configured_path_meets_none_of_the_media_refusals(platform: Platform) -> None:
    """Every call of a whole partition was answered with code 0: no retired endpoint (12007), no
    missing `fields` / `group_by` (18001), no level the version lacks (18009), no row quota
    (11019, 18003), no async task inside its agency's cooldown (11019), and no v1.x report emptied
    by the old metric system (`old_metrics`). Tencent v3.0's reports came through the agencies'
    async tasks (no per-account report call at all on this clean day); v1.x's per account."""
    answers = platform.first_counters["requests"]
    outcomes = {(endpoint, outcome) for endpoint, counts in answers.items() for outcome in counts}
    assert {outcome for _, outcome in outcomes} == {"0"}, sorted(outcomes)
    reports = {e for e in answers if "report" in e}
    for media in ("gdt", "wx"):
        if api_versions()[media] == "v3.0":
            assert {f"{media} async_reports/add", f"{media} async_report_files/get"} <= reports
            assert not {f"{media} daily_reports/get", f"{media} hourly_reports/get"} & reports
        else:
            assert f"{media} daily_reports/get" in reports
    assert {"jrtt report/custom/get", "jrtt report/ad/get", "jrtt account/fund/get"} <= reports | set(answers)


def test_deleted_and_upgraded_entities_are_all_in_jrtt_reports(platform: Platform) -> None:
    """Each account's spend at account level equals the sum of its campaign-level rows (legacy
    accounts, deleted campaigns included) or of its project rows (upgraded accounts)."""

    def stored(dataset: str) -> dict[int, list]:
        with platform.hbase.connection() as conn:
            table = conn.table(platform.hbase.full_name(table_name("jrtt", dataset)))
            rows = table.scan(row_start=b"0|20261125", row_stop=b"9|20261126")
            return {int(k.split(b"|")[2]): json.loads(v[b"info:data"])["data"] for k, v in rows}

    totals = {a: records[0]["cost"] for a, records in stored("report_advertiser_v2").items()}
    campaigns, projects = stored("report_campaign_v2"), stored("report_project_v3")
    assert campaigns and projects and not set(campaigns) & set(projects)
    for account, records in campaigns.items():
        assert round(sum(r["cost"] for r in records), 2) == totals[account], account
    for account, records in projects.items():
        assert round(sum(r["metrics"]["stat_cost"] for r in records), 2) == totals[account], account
    assert set(campaigns) | set(projects) == set(totals)


# (media, dataset) -> version -> the fields of a stored record: reports name the new metric
# system's fields in every version (v1.x with the upgrade flag); v1.1 funds and listings are the
# default set the notes' jobs stored
RECORD_FIELDS = {
    ("gdt", "daily_report_advertiser_v3"): {
        "v1.1": {"date", *tencent_reports.REPORT_METRICS},
        "v1.3": {"date", "account_id", *tencent_reports.REPORT_METRICS},
        "v3.0": {"date", "account_id", *tencent_reports.REPORT_METRICS},
    },
    ("gdt", "funds_get_v2"): {
        "v1.1": {"fund_type", "balance", "fund_status", "today_cost"},
        "v1.3": set(gdt.FUND_FIELDS["v1.3"]),
        "v3.0": set(gdt.FUND_FIELDS["v3.0"]),
    },
    ("wx", "wechat_advertiser_get_v1.1"): {
        "v1.1": {"account_id", "corporation_name", "system_status", "daily_budget", "system_industry_id"},
        "v1.3": set(wx.ACCOUNT_FIELDS),
        "v3.0": set(wx.ACCOUNT_FIELDS),
    },
}


ENDPOINT = {  # what each table's rows are fetched with (a role for wx's listing)
    ("gdt", "daily_report_advertiser_v3"): "daily_reports/get",
    ("gdt", "funds_get_v2"): "funds/get",
    ("wx", "wechat_advertiser_get_v1.1"): "accounts",
}


@pytest.mark.parametrize(("media", "dataset"), list(RECORD_FIELDS))
def test_stored_records_are_the_configured_versions(platform: Platform, media: str, dataset: str) -> None:
    api = platform.resources["media_api"].api_spec(media)
    with platform.hbase.connection() as conn:
        table = conn.table(platform.hbase.full_name(table_name(media, dataset)))
        rows = list(table.scan(row_start=b"0|20261125", row_stop=b"9|20261126"))
    values = [json.loads(v[b"info:data"])["data"] for _, v in rows]
    records = [r for value in values for r in (value if isinstance(value, list) else [value])]
    assert records and {frozenset(r) for r in records} == {
        frozenset(RECORD_FIELDS[media, dataset][api.version])
    }
    # and every row says which contract it came from, beside info:data (the value keeps its shape)
    path = api.endpoint(ENDPOINT[media, dataset]).path
    assert {v[b"info:api"].decode() for _, v in rows} == {f"{api.version} {path}"}
    assert all(set(json.loads(v[b"info:data"])) == {"tenant_alias", "data", "timestamp"} for _, v in rows)


def test_the_seeds_redis_account_keys_are_written(platform: Platform) -> None:
    raw = redis.Redis(db=2)
    world, tenant = platform.sim.world, platform.tenant
    gdt_key = f"gdt_advertiser_v1.1_{tenant}_20261125"
    assert accounts_key("gdt", tenant, DAY) == gdt_key
    stored = {m.decode(): int(s) for m, s in raw.zrange(gdt_key, 0, -1, withscores=True)}
    assert stored == {str(a): g for a, g in world.accounts("gdt", tenant)}
    for tier, prefix in (
        (AgentTier.FIRST, "jrtt_accounts_v2"),
        (AgentTier.SECOND, "jrtt_child_advertiser_v2"),
    ):
        members = raw.zrange(f"{prefix}_{tenant}_20261125", 0, -1)
        assert {int(m) for m in members} == {a for a, _ in world.accounts("jrtt", tenant, tier=tier)}
    for agent in world.agents("wx", tenant):
        members = raw.zrange(f"wx_advertiser_{tenant}_{agent.agent_id}_20261125", 0, -1)
        assert {int(m) for m in members} == {
            a for a, _ in world.accounts("wx", tenant, agent_id=agent.agent_id)
        }


def test_run_log_rows_hold_the_seeds_parameters_and_no_token(platform: Platform) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=platform.mysql.log_database)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT cur_job_name, status, accounts_requested, accounts_failed, params FROM api_result_log"
            " WHERE tenant_alias = %s",
            (platform.tenant,),
        )
        rows = cur.fetchall()
    conn.close()
    fetch_assets = [k for a in ASSETS for k in a.keys if "agents" not in k.path[-1]]  # the daily ones
    assert {r[0] for r in rows} >= {"/".join(k.path) for k in fetch_assets}
    assert {r[1] for r in rows} == {"SUCCEEDED"}
    assert all(r[3] == 0 for r in rows)
    params = json.loads(rows[0][4])
    assert {"tenant_alias", "data_date", "media_name", "cur_job_name", "account_list", "agents_list"} <= set(
        params
    )
    tokens = set(RedisResource().sets.tokens("gdt", platform.tenant).values())
    assert not any(token in r[4] for r in rows for token in tokens)


def test_kafka_carries_start_and_end_events_per_media(platform: Platform) -> None:
    for media in media_names():
        events = consume_events("127.0.0.1:9092", f"{platform.topic_prefix}{media}_api_log", timeout_s=15)
        types = {e["log_type"] for e in events}
        assert {"API_JOB_START", "API_JOB_END"} <= types
        assert {e["tenant"] for e in events} == {platform.tenant}
        assert all(e["data_date"] == "2026-11-25" for e in events)
        assert set(events[0]) == {
            "tenant",
            "cur_job",
            "interface",
            "agent_id",
            "data_date",
            "argv",
            "log_content",
            "log_type",
            "log_time",
        }


def test_a_rerun_changes_no_row_count(platform: Platform) -> None:
    before = _tables(platform)
    again = platform.run(["gdt/funds", "jrtt/funds", "wx/daily_report_adgroup"])
    assert again.success
    assert _tables(platform) == before


def test_a_slice_rerun_rewrites_only_its_accounts(platform: Platform) -> None:
    world, tenant = platform.sim.world, platform.tenant
    table = platform.hbase.full_name(table_name("gdt", "funds_get_v2"))
    target = str(world.accounts("gdt", tenant)[0][0])
    stamps_before = _timestamps(platform, table)
    result = platform.run(["gdt/funds"], config={"account_list": [target]})
    assert result.success
    stamps_after = _timestamps(platform, table)
    assert stamps_after.keys() == stamps_before.keys()
    changed = {key for key in stamps_after if stamps_after[key] != stamps_before[key]}
    assert changed and all(key.split(b"|")[2].decode() == target for key in changed)
    [event] = [e for e in result.get_asset_materialization_events()]
    assert event.event_specific_data.materialization.metadata["accounts_requested"].value == 1


def _timestamps(platform: Platform, table: str) -> dict[bytes, int]:
    with platform.hbase.connection() as conn:
        rows = conn.table(table).scan(row_start=b"0|20261125", row_stop=b"9|20261126", include_timestamp=True)
        return {key: value[b"info:data"][1] for key, value in rows if b"|20261125|" in key}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"agents_list": ["1", "2"]}, "agents_list holds 2 agents"),
        ({"account_list": ["12|34"]}, "is not an id"),
        ({"account_list": ["999999999"]}, "not in the day's account lists: 999999999"),
    ],
)
def test_bad_slice_config_fails_clearly(platform: Platform, config: dict, message: str) -> None:
    before = _tables(platform)
    result = platform.run(["gdt/funds"], config=config)
    assert not result.success
    errors = " ".join(
        str(e.message) + str(getattr(e.event_specific_data, "error", "")) for e in result.all_events
    )
    assert message in errors
    assert _tables(platform) == before  # nothing stored was lost or half-written


def test_an_empty_source_list_is_an_alert_not_a_success(platform: Platform) -> None:
    other = platform.add_tenant(f"T5{secrets.randbelow(10**9):09d}", seed=False)  # no account lists at all
    result = platform.run(["wx/funds"], tenant=other)
    assert not result.success
    assert platform.sink.wait_for(1, timeout=10)
    alert = [e for e in platform.sink.events if "empty source list" in json.dumps(e)]
    assert alert, platform.sink.events
    assert alert[0]["tags"]["tenant"] == other and alert[0]["tags"]["media"] == "wx"


def test_failed_accounts_keep_their_stored_rows_and_fail_the_completeness_check(platform: Platform) -> None:
    world, tenant, sim = platform.sim.world, platform.tenant, platform.sim
    before = _tables(platform)
    agent = world.agents("jrtt", tenant, tier=AgentTier.FIRST)[0].agent_id
    sim.expire_tokens("jrtt", tenant, agent, refresh=True)  # its token and refresh token both die
    try:
        result = platform.run(["jrtt/funds"])
    finally:
        sim.reset(tokens=True)
        platform.reseed()
    assert result.success  # the run completes; the check carries the failure
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "completeness"]
    assert not check.passed
    failed = check.metadata["sources_failed"].value
    assert failed == sum(1 for _, g in world.accounts("jrtt", tenant, tier=AgentTier.FIRST) if g == agent)
    assert _tables(platform) == before  # the failed accounts' earlier rows were kept, nothing duplicated


def test_every_check_of_the_first_run_passed(platform: Platform) -> None:
    evaluations = platform.first.get_asset_check_evaluations()
    by_name: dict[str, list] = {}
    for evaluation in evaluations:
        by_name.setdefault(evaluation.check_name, []).append(evaluation)
    keys = [k for a in ASSETS for k in a.keys]
    assert len(by_name["row_keys"]) == len(keys)  # every HBase-backed asset
    assert len(by_name["completeness"]) == len([k for k in keys if "agents" not in k.path[-1]])
    assert all(e.passed for e in evaluations), [
        (e.asset_key, e.check_name) for e in evaluations if not e.passed
    ]
    assert sum(e.metadata["rows_checked"].value for e in by_name["row_keys"]) == sum(
        _tables(platform).values()
    )


def test_the_production_vs_test_row_count_comparison(platform: Platform) -> None:
    funds = AssetKey(["wx", "funds"])
    [compared] = media_assets(media_named("wx"), compare_prefix="cmp")  # wx's step, with the comparison
    table = table_name("wx", "funds_get_v2")
    other = platform.hbase.model_copy(update={"table_prefix": f"cmp_{platform.hbase.table_prefix}"})
    other.ensure_table(table)
    try:
        with platform.hbase.connection() as conn:  # the "test" table holds all but one row
            rows = list(
                conn.table(platform.hbase.full_name(table)).scan(
                    row_start=b"0|20261125", row_stop=b"9|20261126"
                )
            )
        with other.writer(table) as writer:
            for key, value in rows[1:]:
                writer.put(key, value)
        others = [a for a in ASSETS if funds not in a.keys]
        result = materialize(
            [*others, compared],
            selection=[funds],
            partition_key=str(partition_key(DAY, platform.tenant)),
            resources=platform.resources,
            instance=platform.instance,
        )
        [evaluation] = [
            e for e in result.get_asset_check_evaluations() if e.check_name == "matches_comparison_table"
        ]
        assert not evaluation.passed
        assert (
            evaluation.metadata["rows"].value == len(rows) == evaluation.metadata["comparison_rows"].value + 1
        )
    finally:
        other.delete_table(table)


def test_throttles_become_kafka_events_and_request_logs(platform: Platform) -> None:
    sim = platform.sim
    sim.set_quotas("wx", "funds/get", per_minute=120, burst_seconds=1.0)  # 2 calls/s, a 2-call burst
    try:
        result = platform.run(["wx/funds"])
    finally:
        sim.set_quotas("wx", "funds/get", per_minute=20000, burst_seconds=10.0)
    assert result.success
    [materialization] = result.get_asset_materialization_events()
    throttles = materialization.event_specific_data.materialization.metadata["throttles"].value
    assert throttles > 0
    events = consume_events("127.0.0.1:9092", f"{platform.topic_prefix}wx_api_log", timeout_s=15)
    assert any(e["log_type"] == "API_JOB_THROTTLE" and "funds/get" in e["log_content"] for e in events)
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=platform.mysql.log_database)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM api_response_log WHERE run_id = %s AND code = 11017", (result.run_id,)
        )
        [[logged]] = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM api_request_log WHERE run_id = %s", (result.run_id,))
        [[requests]] = cur.fetchall()
    conn.close()
    assert logged == throttles  # every throttle answer is logged, whatever the sample rate
    assert requests >= logged
