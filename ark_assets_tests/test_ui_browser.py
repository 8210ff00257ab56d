"""The Dagster web UI end to end, in a real browser.

Debian's chromium, driven by Playwright, against `dagster dev -w workspace.yaml` (web server,
daemon, code server) on a free loopback port, with a temporary DAGSTER_HOME, the media simulator
on loopback, a seeded unique tenant, and `ARK_*` variables that point every resource at names
this module owns (HBase table prefix, Kafka topic prefix, MySQL databases).

The contract, as a person sees it:
- the asset graph of each media draws the lineage agents → advertisers → funds / reports, edge
  for edge as the definitions declare it;
- a (date, tenant) partition picked in the launch dialog's partition picker materializes, the
  run succeeds, and its rows are in HBase (read back with happybase) as `ark-sim truth` expects;
- switching on the `account_lists_arrived` sensor and writing the next date's account keys to
  Redis starts the dependent run (that media's funds and reports), which succeeds and stores
  the rows for that date;
- a materialization where one agent's accounts fail shows its progress lines in the run log,
  and the asset's page shows the failed accounts as JSON (ids, kind, code, attempts).

Screenshots of every step are kept in `artifacts/ui/` (on failure too).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import happybase
import pytest
from dagster import AssetKey, DagsterInstance
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ark_assets.core.days import GMT8
from ark_assets.definitions import defs
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.dagster_ui import (
    ARTIFACTS,
    ROOT,
    DagsterDev,
    chromium_args,
    chromium_path,
    dagster_dev,
    wait_for,
)
from ark_assets_tests.platform import FAST_TASKS, TASK_KNOBS, api_versions, drop_owned, seed
from ark_sim.server import RunningSimulator, running_simulator
from ark_sim.truth import truth

pytestmark = pytest.mark.stack  # every test here runs against the real services

GRAPH = defs.resolve_asset_graph()
# The one media the partition picker materializes, and its assets (a narrow, fast selection).
MEDIA = "wx"
PICKED = ("agents", "advertisers", "funds")
SENSOR = "account_lists_arrived"


@dataclass
class UI:
    dev: DagsterDev
    browser: Browser
    sim: RunningSimulator
    tenant: str
    prefix: str  # HBase table prefix of this module
    picked_day: date  # materialized from the partition picker
    next_day: date  # yesterday (GMT+8): the account-list sensor's date

    def page(self, height: int = 1000) -> Page:
        page = self.browser.new_page(viewport={"width": 1600, "height": height})
        page.set_default_timeout(30_000)
        return page


# ##### FIXTURES


@pytest.fixture(scope="module")
def ui() -> Iterator[UI]:
    chromium = chromium_path()
    if chromium is None:
        pytest.fail(
            "Debian's chromium is not installed: `make test` installs it "
            "(or `apt-get install chromium`); Playwright uses the system browser",
            pytrace=False,
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    unique = secrets.token_hex(4)
    tenant = f"T8{secrets.randbelow(10**9):09d}"
    prefix = f"ui{unique}"
    mysql = MySQLResource(log_database=f"ark_ui_{unique}_nyfz", eton_database=f"ark_ui_{unique}_eton")
    _not_at_midnight()
    next_day = datetime.now(GMT8).date() - timedelta(days=1)
    picked_day = next_day - timedelta(days=1)
    home = Path(tempfile.mkdtemp(prefix="ark-ui-test-"))
    try:
        mysql.migrate()
        with running_simulator(media=FAST_TASKS) as sim:  # Tencent's async tasks at test speed
            seed(sim.world, tenant, picked_day, mysql)
            env = _environment(home, sim, mysql, prefix, unique)
            _prepare_instance(home, tenant)
            dev = DagsterDev(home, env, 0)
            # An operator keeps the account-list sensor off until they switch it on in the UI.
            dev.cli("sensor", "stop", SENSOR, "-w", "workspace.yaml")
            with dagster_dev(home, env) as dev, sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=chromium_args()
                )
                try:
                    yield UI(dev, browser, sim, tenant, prefix, picked_day, next_day)
                finally:
                    browser.close()
    finally:
        drop_owned(HBaseResource(table_prefix=prefix), mysql, [tenant])
        shutil.rmtree(home, ignore_errors=True)


def _not_at_midnight() -> None:
    """The sensor reads "yesterday" from its own clock: do not start a few minutes before the
    GMT+8 day changes under the test (wait for the new day instead; at most 5 minutes)."""
    now = datetime.now(GMT8)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    if (midnight - now).total_seconds() < 300:
        time.sleep((midnight - now).total_seconds() + 5)


def _environment(
    home: Path, sim: RunningSimulator, mysql: MySQLResource, prefix: str, unique: str
) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ARK_")}
    return {
        **inherited,
        "DAGSTER_HOME": str(home),
        "ARK_HBASE_TABLE_PREFIX": prefix,
        "ARK_KAFKA_TOPIC_PREFIX": f"{prefix}_",
        "ARK_KAFKA_SPOOL_DIR": str(home / "kafka-spool"),
        "ARK_MYSQL_LOG_DB": mysql.log_database,
        "ARK_MYSQL_ETON_DB": mysql.eton_database,
        # the polling sensors tick every 5 s instead of every minute (README: Configuration)
        "ARK_SENSOR_INTERVAL_S": "5",
        # and paces Tencent's async report tasks as the test simulator allows (the vendor: 5 min)
        "ARK_ASYNC_TASK_COOLDOWN_S": str(TASK_KNOBS["task_cooldown_s"]),
        "ARK_ASYNC_TASK_POLL_S": str(TASK_KNOBS["task_poll_s"]),
        **{f"ARK_{m.upper()}_BASE_URL": sim.url(m) for m in media_names()},
    }


def _prepare_instance(home: Path, tenant: str) -> None:
    """The local instance config, the tenant's partition, and no first-visit newsletter modal."""
    shutil.copyfile(ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    (home / ".nux").mkdir()
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    instance = DagsterInstance.from_config(str(home))
    try:
        instance.add_dynamic_partitions("tenants", [tenant])
    finally:
        instance.dispose()


# ##### HELPERS


@contextmanager
def _screenshots(page: Page, name: str) -> Iterator[None]:
    """Keep a screenshot of the page if the block fails, then close the page."""
    try:
        yield
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"FAILED_{name}.png"), full_page=True)
        raise
    finally:
        page.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _drawn_lineage(page: Page) -> set[tuple[str, str]]:
    """(upstream, downstream) asset names of the edges the graph draws.

    Nodes are SVG foreignObjects (x, y, width, height, name); an edge is a path from the right
    side of its upstream node to (just before, for the arrow head) the left side of its
    downstream node, so each path's end points identify the two nodes.
    """
    drawn = page.evaluate(
        """() => ({
          nodes: Array.from(document.querySelectorAll('foreignObject')).map(fo => ({
            name: fo.querySelector('[data-tooltip]')?.getAttribute('data-tooltip'),
            x: +fo.getAttribute('x'), y: +fo.getAttribute('y'),
            w: +fo.getAttribute('width'), h: +fo.getAttribute('height')})).filter(n => n.name),
          edges: Array.from(document.querySelectorAll('path[marker-end]')).map(p => {
            const n = p.getAttribute('d').match(/-?[0-9.]+/g).map(Number);
            return [n[0], n[1], n[n.length - 2], n[n.length - 1]];
          }),
        })"""
    )

    def node_at(x: float, y: float, *, right_side: bool) -> str:
        for node in drawn["nodes"]:
            edge_x = node["x"] + node["w"] if right_side else node["x"]
            near = abs(x - edge_x) <= 3 if right_side else edge_x - 15 <= x <= edge_x + 3
            if near and node["y"] <= y <= node["y"] + node["h"]:
                return node["name"]
        raise AssertionError(f"an edge end at ({x}, {y}) touches no node: {drawn}")

    return {
        (node_at(x1, y1, right_side=True), node_at(x2, y2, right_side=False))
        for x1, y1, x2, y2 in drawn["edges"]
    }


def _declared_lineage(media: str) -> set[tuple[str, str]]:
    keys = [k for k in GRAPH.get_all_asset_keys() if k.path[0] == media]
    return {(parent.path[-1], key.path[-1]) for key in keys for parent in GRAPH.get(key).parent_keys}


def _hbase_table(key: AssetKey) -> str:
    return str(defs.get_assets_def(key).metadata_by_key[key]["hbase_table"])


def _hbase_rows(prefix: str, table: str, day: date) -> int:
    """Rows of `day` in `{prefix}_{table}`, read with happybase: ten salted range scans."""
    start, stop = f"{day:%Y%m%d}", f"{day + timedelta(days=1):%Y%m%d}"
    conn = happybase.Connection("127.0.0.1", 9090, table_prefix=prefix)
    try:
        hbase_table = conn.table(table)
        return sum(
            1
            for salt in range(10)
            for _ in hbase_table.scan(
                row_start=f"{salt}|{start}".encode(),
                row_stop=f"{salt}|{stop}".encode(),
                columns=[b"info:data"],
            )
        )
    finally:
        conn.close()


def _wait_for_run_success(ui: UI, run_id: str, timeout: float = 300) -> None:
    def finished() -> str | None:
        [run] = [r for r in ui.dev.runs() if r["runId"] == run_id]
        return run["status"] if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

    status = wait_for(f"run {run_id} to finish", finished, timeout=timeout, every=2)
    assert status == "SUCCESS", f"run {run_id} ended {status}; see {ui.dev.log} and the run's page"


def _expect_run_page_success(page: Page) -> None:
    expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Loading run logs…")).to_have_count(0, timeout=60_000)
    expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible(timeout=60_000)


# ##### TESTS


@pytest.mark.timeout(600)
@pytest.mark.parametrize("media", list(media_names()), ids=str)
def test_asset_graph_draws_each_medias_lineage(ui: UI, media: str) -> None:
    page = ui.page(height=2400)  # the graph draws only the nodes in view: make room for all
    with _screenshots(page, f"lineage_{media}"):
        page.goto(f"{ui.dev.url}/locations/ark_assets/asset-groups/{media}/lineage")
        declared = _declared_lineage(media)
        names = {name for edge in declared for name in edge}
        expect(page.locator("foreignObject")).to_have_count(len(names), timeout=60_000)
        for name in names:
            expect(page.get_by_text(name, exact=True).filter(visible=True).first).to_be_visible()
        drawn = _drawn_lineage(page)
        _shot(page, f"01_lineage_{media}")
        assert drawn == declared
        # The shape the platform promises: agents → advertisers → funds / reports.
        agents = {a for a, _ in drawn if a.startswith("agents")}
        advertisers = {d for a, d in drawn if a in agents}
        downstream = {d for a, d in drawn if a in advertisers}
        assert advertisers and all(a.startswith("advertisers") for a in advertisers)
        assert "funds" in downstream
        assert any("report" in d for d in downstream)


@pytest.mark.timeout(600)
def test_partition_picker_materializes_a_partition_into_hbase(ui: UI) -> None:
    page = ui.page()
    with _screenshots(page, "partition_picker"):
        page.goto(f"{ui.dev.url}/locations/ark_assets/asset-groups/{MEDIA}/list")
        for name in PICKED:
            checkbox = page.get_by_test_id(f"checkbox-{MEDIA}/{name}")
            page.locator("label").filter(has=checkbox).click()  # the input hides under its label
            expect(checkbox).to_be_checked()
        page.get_by_role("button", name="Materialize selected").click()

        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text(f"Launch runs to materialize {len(PICKED)} assets")).to_be_visible()
        date_input = dialog.get_by_placeholder(re.compile(r"^ex: \d{4}-\d{2}-\d{2}"))
        date_input.fill(str(ui.picked_day))
        date_input.press("Enter")
        dialog.get_by_text("Select a partition or create one").click()
        page.get_by_placeholder("Filter partitions").fill(ui.tenant)
        page.get_by_text(ui.tenant, exact=True).filter(visible=True).click()
        page.keyboard.press("Escape")  # close the tenant list, keep the dialog
        expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
        _shot(page, "02_partition_picker")
        dialog.get_by_role("button", name="Launch 1 run").click()

        expect(page.get_by_text(re.compile(r"^Launched run [0-9a-f]{8}"))).to_be_visible()
        page.get_by_role("link", name="View").or_(page.get_by_role("button", name="View")).first.click()
        page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
        run_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
        _wait_for_run_success(ui, run_id)
        page.reload()
        _expect_run_page_success(page)
        _shot(page, "03_picked_partition_run_succeeded")

    [run] = [r for r in ui.dev.runs() if r["runId"] == run_id]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == str(partition_key(ui.picked_day, ui.tenant))
    assert {"/".join(a["path"]) for a in run["assetSelection"]} == {f"{MEDIA}/{n}" for n in PICKED}
    expected = truth(ui.sim.world, ui.tenant, ui.picked_day, api_versions())["tables"]
    for name in PICKED:
        table = _hbase_table(AssetKey([MEDIA, name]))
        assert expected[table] > 0
        assert _hbase_rows(ui.prefix, table, ui.picked_day) == expected[table], table


@pytest.mark.timeout(600)
def test_switching_on_the_account_list_sensor_runs_the_next_dates_funds_and_reports(ui: UI) -> None:
    page = ui.page()
    with _screenshots(page, "sensor"):
        page.goto(f"{ui.dev.url}/locations/ark_assets/sensors/{SENSOR}")
        [description] = [s.description for s in defs.sensors or [] if s.name == SENSOR]
        expect(page.get_by_text(description, exact=True)).to_be_visible(timeout=60_000)
        toggle = page.locator("input[type=checkbox]")
        expect(toggle).not_to_be_checked()  # stopped before the UI started
        page.locator("label").filter(has=toggle).click()  # the switch's input hides under its label
        expect(toggle).to_be_checked()
        _shot(page, "04_sensor_switched_on")

        # The next date's account keys arrive in Redis, as an upstream system writes them.
        store = RedisResource()
        for agent in ui.sim.world.agents(MEDIA, ui.tenant):
            accounts = dict(ui.sim.world.accounts(MEDIA, ui.tenant, agent_id=agent.agent_id))
            store.sets.write_accounts(MEDIA, ui.tenant, ui.next_day, accounts, agent_id=agent.agent_id)

        [run] = wait_for(
            "the sensor to start a run",
            lambda: ui.dev.runs({"dagster/sensor_name": SENSOR}),
            timeout=180,
            every=2,
        )
        page.goto(f"{ui.dev.url}/runs")
        expect(page.get_by_text(run["runId"][:8]).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text(SENSOR).first).to_be_visible()  # "Launched by"
        _shot(page, "05_sensor_started_run")
        _wait_for_run_success(ui, run["runId"])
        page.goto(f"{ui.dev.url}/runs/{run['runId']}")
        _expect_run_page_success(page)
        _shot(page, "06_sensor_run_succeeded")

    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == str(partition_key(ui.next_day, ui.tenant))
    assert tags["media"] == MEDIA
    selected = {AssetKey(a["path"]) for a in run["assetSelection"]}
    datasets = {k for k in GRAPH.get_all_asset_keys() if k.path[0] == MEDIA}
    datasets -= {k for k in datasets if k.path[-1].startswith(("agents", "advertisers", "intraday_"))}
    assert selected == datasets  # funds and every report, nothing upstream (nor the intraday twins)
    expected = truth(ui.sim.world, ui.tenant, ui.next_day, api_versions())["tables"]
    for key in datasets:
        table = _hbase_table(key)
        assert _hbase_rows(ui.prefix, table, ui.next_day) == expected[table] > 0, table


@pytest.mark.timeout(600)
def test_a_run_with_failed_accounts_shows_progress_lines_and_the_failed_accounts_json(ui: UI) -> None:
    """On call's view: the run log says how the fetch went, the asset says which accounts failed."""
    key = str(partition_key(ui.picked_day, ui.tenant))
    agent = ui.sim.world.agents(MEDIA, ui.tenant)[0].agent_id
    failed = sorted(str(a) for a, _ in ui.sim.world.accounts(MEDIA, ui.tenant, agent_id=agent))
    ui.sim.expire_tokens(MEDIA, ui.tenant, agent, refresh=True)  # its accounts' funds will fail
    try:
        ui.dev.cli(
            "asset",
            "materialize",
            "-m",
            "ark_assets.definitions",
            "--select",
            f"{MEDIA}/funds",
            "--partition",
            key,
        )
    finally:
        ui.sim.reset(tokens=True)
    [run, *_] = [
        r
        for r in ui.dev.runs({"dagster/partition": key})
        if [a["path"] for a in r["assetSelection"]] == [[MEDIA, "funds"]]
    ]
    page = ui.page(height=1400)
    with _screenshots(page, "failed_accounts"):
        page.goto(f"{ui.dev.url}/runs/{run['runId']}")
        done = re.compile(rf"{MEDIA}/funds \S+: done, \d+/\d+ sources \({len(failed)} failed\)")
        expect(page.get_by_text(done).first).to_be_visible(timeout=60_000)  # the fetch's progress line
        _shot(page, "07_progress_lines_in_the_run_log")

        page.goto(f"{ui.dev.url}/assets/{MEDIA}/funds?view=events&partition={quote(key)}")
        row = page.locator("tr").filter(has_text="failed_accounts_json").first
        expect(row).to_be_visible(timeout=60_000)
        row.get_by_text("[Show JSON]").click()
        shown = page.get_by_role("dialog")
        expect(shown.get_by_text(failed[0]).first).to_be_visible()
        expect(shown.get_by_text('"attempts"').first).to_be_visible()
        _shot(page, "08_failed_accounts_json")
