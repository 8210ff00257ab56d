"""A production topology under test, seen as the tests see it: GraphQL as the UI sends it, the
instance's Postgres rows, the simulator's admin API, HBase against `ark-sim truth`.

Shared by the loopback topology's tests (test_production_topology.py) and the multi-host ones
(test_production_hosts.py); every network call goes through the topology's `client`, which on
several hosts is a thread on the control host (the root namespace has no route to the hosts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

import psycopg2
import requests
from dagster import DagsterEventType, EventLogEntry
from dagster._serdes import deserialize_value

from ark_assets.resources.hbase import HBaseResource
from ark_assets_tests.dagster_ui import wait_for
from ark_assets_tests.fault_matrix import assert_equals_truth
from ark_sim.world import World
from ark_stack.prod_local import Topology
from ark_stack.service import StackError
from ark_stack.services.postgres import PostgresService, query

DAY = date(2026, 11, 25)
BACKFILL_TIMEOUT_S = 600
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass
class Prod:
    topology: Topology
    pg: PostgresService
    world: World
    hbase: HBaseResource
    sim_url: str
    tenants: list[str] = field(default_factory=list)
    day: date = DAY

    # ----- Postgres, queried directly

    def sql(self, text: str, args: tuple = ()) -> list[tuple]:
        """Rows of a query in this topology's Postgres database."""
        host = self.topology.address("services")
        return self.topology.client(
            lambda: query(text, args, port=self.pg.port, database=self.topology.pg_database, host=host)
        )

    def runs(self, backfill_id: str) -> list[dict[str, Any]]:
        """The backfill's runs from Postgres: id, status, created, started, ended (epoch seconds)."""
        rows = self.sql(
            """SELECT r.run_id FROM runs r JOIN run_tags t ON t.run_id = r.run_id
               WHERE t.key = 'dagster/backfill' AND t.value = %s""",
            (backfill_id,),
        )
        return sorted((self.run(run_id) for (run_id,) in rows), key=lambda r: r["start"])

    def events(self, run_ids: list[str], *types: DagsterEventType) -> list[EventLogEntry]:
        rows = self.sql(
            """SELECT event FROM event_logs WHERE run_id = ANY(%s) AND dagster_event_type = ANY(%s)
               ORDER BY id""",
            (run_ids, [t.value for t in types]),
        )
        return [deserialize_value(body, EventLogEntry) for (body,) in rows]

    def materialized(self, run_id: str, asset: str) -> bool:
        """The run stored `asset` (its step goes on with the assets downstream of it)."""
        return any(
            e.dagster_event.step_materialization_data.materialization.asset_key.to_user_string() == asset
            for e in self.events([run_id], DagsterEventType.ASSET_MATERIALIZATION)
        )

    def celery_hosts(self, run_ids: list[str]) -> list[tuple[str, str, str]]:
        """(run, step, worker) for every step a Celery worker took, in order (from its engine event)."""
        found = []
        for entry in self.events(run_ids, DagsterEventType.ENGINE_EVENT):
            data = entry.dagster_event.engine_event_data
            if "Celery worker" in data.metadata:
                found.append((entry.run_id, entry.step_key, data.metadata["Celery worker"].value))
        return found

    # ----- GraphQL, as the UI

    def backfill(self, keys: list[str], assets: list[str]) -> str:
        data = self.topology.graphql(
            """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                 __typename ... on LaunchBackfillSuccess { backfillId }
                 ... on PythonError { message } ... on InvalidSubsetError { message } } }""",
            {"p": {"partitionNames": keys, "assetSelection": [{"path": a.split("/")} for a in assets]}},
        )["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def launch(
        self, key: str, assets: list[str], tags: dict[str, str] | None = None, run_config: dict | None = None
    ) -> str:
        """One partition's run of `assets`, as the UI's "Materialize" launches it (`run_config`: what
        the launchpad would add); returns its id."""
        day, tenant = key.split("|")
        partition = {
            "dagster/partition": key,
            "dagster/partition/date": day,
            "dagster/partition/tenant": tenant,
        }
        data = self.topology.graphql(
            """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId } }
                 ... on PythonError { message } ... on InvalidSubsetError { message }
                 ... on RunConfigValidationInvalid { errors { message } } } }""",
            {
                "p": {
                    "selector": {
                        **self.topology.repository(),
                        "pipelineName": "__ASSET_JOB",
                        "assetSelection": [{"path": a.split("/")} for a in assets],
                    },
                    "executionMetadata": {
                        "tags": [{"key": k, "value": v} for k, v in {**partition, **(tags or {})}.items()]
                    },
                    "runConfigData": run_config or {},
                }
            },
        )["launchPipelineExecution"]
        assert data["__typename"] == "LaunchRunSuccess", data
        return data["run"]["runId"]

    def schedule(self, name: str, *, on: bool) -> dict[str, str]:
        """Switch a schedule on or off as the UI's toggle does; returns its state (id, status)."""
        if on:
            selector = {
                "repositoryLocationName": self.topology.repository()["repositoryLocationName"],
                "repositoryName": self.topology.repository()["repositoryName"],
                "scheduleName": name,
            }
            mutation = """mutation($s: ScheduleSelector!) { result: startSchedule(scheduleSelector: $s) {
                 __typename ... on ScheduleStateResult { scheduleState { id status } }
                 ... on PythonError { message } } }"""
            variables: dict[str, Any] = {"s": selector}
        else:
            state = self.schedule_state(name)
            mutation = """mutation($id: String!) { result: stopRunningSchedule(id: $id) {
                 __typename ... on ScheduleStateResult { scheduleState { id status } }
                 ... on PythonError { message } } }"""
            variables = {"id": state["id"]}
        data = self.topology.graphql(mutation, variables)["result"]
        assert data["__typename"] == "ScheduleStateResult", data
        return data["scheduleState"]

    def schedule_state(self, name: str) -> dict[str, str]:
        data = self.topology.graphql(
            """query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) {
                 ... on Schedule { scheduleState { id status } } } }""",
            {"s": {**self.topology.repository(), "scheduleName": name}},
        )
        return data["scheduleOrError"]["scheduleState"]

    def run(self, run_id: str) -> dict[str, Any] | None:
        """A run's row in Postgres (status, created, started, ended), None while the server is down."""
        try:
            rows = self.sql(
                "SELECT status, create_timestamp, start_time, end_time FROM runs WHERE run_id = %s", (run_id,)
            )
        except psycopg2.OperationalError:
            return None
        status, created, start, end = rows[0]
        return {
            "run_id": run_id,
            "status": status,
            "created": created.replace(tzinfo=UTC).timestamp(),
            "start": start,
            "end": end,
        }

    def wait_run(
        self, run_id: str, timeout: float = BACKFILL_TIMEOUT_S, *, killed: tuple[str, ...] = ()
    ) -> dict:
        def done() -> dict | None:
            self.topology.alive(but=killed)  # a web server, daemon or worker that died fails now
            run = self.run(run_id)
            return run if run and run["status"] in TERMINAL else None

        return wait_for(f"run {run_id} to end", done, timeout=timeout, every=1)

    def wait_run_ended_or_failed_saying(self, run_id: str, why: str) -> dict:
        """Wait for a run to end; it may fail, but then a failure event must match `why` (a regex)."""
        run = self.wait_run(run_id)
        if run["status"] != "SUCCESS":
            failure = self.events([run_id], DagsterEventType.RUN_FAILURE, DagsterEventType.STEP_FAILURE)
            messages = " ".join(failure_text(e) for e in failure)
            assert re.search(why, messages), messages
        return run

    def backfill_status(self, backfill_id: str) -> str | None:
        try:
            data = self.topology.graphql(
                """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
                     ... on PartitionBackfill { status } } }""",
                {"id": backfill_id},
                timeout=10,
            )
        except (requests.RequestException, StackError):
            return None
        return data["partitionBackfillOrError"]["status"]

    def wait_backfill(self, backfill_id: str, timeout: float = BACKFILL_TIMEOUT_S) -> str:
        def done() -> str | None:
            self.topology.alive()  # a web server, daemon or worker that died fails now
            status = self.backfill_status(backfill_id)
            return status if status not in (None, "REQUESTED") else None

        return wait_for(f"backfill {backfill_id}", done, timeout=timeout, every=2)

    # ----- the simulator

    def set_quota(self, media: str, endpoint: str, **limits: float) -> None:
        body = {"media": media, "endpoint": endpoint, **limits}
        url = f"{self.sim_url}/admin/quotas"
        self.topology.client(lambda: requests.post(url, json=body, timeout=10).raise_for_status())

    def assert_truth(self, tenant: str, assets: list[str]) -> dict[str, set[bytes]]:
        """Per asset: the tenant's rows of the day = `ark-sim truth`, every key valid; returns the keys."""
        return self.topology.client(assert_equals_truth, self.world, self.hbase, tenant, self.day, assets)


def peak_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant (an interval ending where another starts does not overlap)."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def failure_text(entry: EventLogEntry) -> str:
    """An event's message and, for a step failure, the error it carries (the message is generic)."""
    data = entry.dagster_event.event_specific_data if entry.dagster_event else None
    error = getattr(data, "error", None)
    return f"{entry.message or ''} {error.to_string() if error else ''}"
