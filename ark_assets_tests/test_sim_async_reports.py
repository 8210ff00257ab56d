"""The simulator's Tencent v3.0 asynchronous reports, as the media answer them (docs/media/gdt.md).

- A task for an agency's id is PENDING, then PROCESSING, then COMPLETED with a file listed by id
  and md5; the file (CSV, a header of the task's report_fields) holds, for every sub-customer of
  the agency, exactly the rows the synchronous report answers for it, and nothing of a dormant one.
- One task per account_id per cooldown: a second one sooner is refused (11019) and creates nothing;
  another agency's id is refused; a failed task says so in its result; an expired task's file is gone.
- `file_rows` splits a file, `drop_accounts` leaves sub-customers out (the fault the platform's
  per-account fallback covers); the truth of the world is untouched by any of it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

DAY = date(2024, 5, 10)
TENANT = "T100117"
FIELDS = [
    "date",
    "account_id",
    "adgroup_id",
    "adgroup_name",
    "view_count",
    "valid_click_count",
    "cost",
    "ctr",
]


def _sim(**limits: Any) -> Any:
    async_reports = {"pending_s": 0.1, "processing_s": 0.1, "cooldown_s": 0} | limits
    overrides = {"clock": {"today": "2024-05-20"}, "media": {"gdt": {"async_reports": async_reports}}}
    return running_simulator(SimConfig.load(overrides=overrides))


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with _sim() as running:
        yield running


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    with SimClient(sim.base_url) as c:
        yield c


def _agency(sim: RunningSimulator) -> tuple[int, str]:
    agent = sim.world.agents("gdt", TENANT)[0].agent_id
    return agent, sim.world.initial_tokens("gdt", TENANT)[agent][0]


def _add(client: SimClient, token: str, account_id: int, **spec: Any) -> dict:
    body = {
        "account_id": account_id,
        "task_name": "ark-test",
        "report_fields": FIELDS,
        "level": "REPORT_LEVEL_ADGROUP",
        "group_by": ["date", "adgroup_id"],
        "granularity": "DAILY",
        "date": DAY.isoformat(),
    } | spec
    return client.post("gdt", "/v3.0/async_reports/add", body, token=token).json()


def _task(client: SimClient, token: str, account_id: int, task_id: int) -> dict:
    body = client.gdt(
        "/v3.0/async_reports/get",
        token,
        account_id=account_id,
        filtering=[{"field": "task_id", "operator": "EQUALS", "values": [str(task_id)]}],
    ).json()
    assert body["code"] == 0, body
    [task] = body["data"]["list"]
    return task


def _wait(client: SimClient, token: str, account_id: int, task_id: int) -> dict:
    seen = []
    for _ in range(100):
        task = _task(client, token, account_id, task_id)
        seen.append(task["status"])
        if task["status"] not in ("TASK_STATUS_PENDING", "TASK_STATUS_PROCESSING"):
            return task | {"seen": seen}
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} never ended: {seen[-3:]}")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_agency_task_holds_every_sub_customers_synchronous_rows(
    sim: RunningSimulator, client: SimClient
) -> None:
    agency, token = _agency(sim)
    task_id = _add(client, token, agency)["data"]["task_id"]
    task = _wait(client, token, agency, task_id)
    assert task["seen"][0] == "TASK_STATUS_PENDING" and task["status"] == "TASK_STATUS_COMPLETED"
    [listed] = task["result"]["data"]["file_info_list"]
    answer = client.gdt(
        "/v3.0/async_report_files/get", token, account_id=agency, task_id=task_id, file_id=listed["file_id"]
    )
    assert answer.status_code == 200 and answer.history[0].status_code == 302
    assert hashlib.md5(answer.content).hexdigest() == listed["md5"]
    assert answer.text.splitlines()[0].split(",") == FIELDS
    by_account: dict[int, list[dict[str, str]]] = {}
    for row in _rows(answer.text):
        by_account.setdefault(int(row["account_id"]), []).append(row)
    accounts = [a.account_id for a in sim.world.agent_accounts("gdt", TENANT, agency)]
    assert sorted(by_account) == sorted(a for a in accounts if sim.world.spends("gdt", a, DAY))
    for account in accounts:
        sync = client.gdt(
            "/v3.0/daily_reports/get",
            token,
            account_id=account,
            level="REPORT_LEVEL_ADGROUP",
            date_range={"start_date": DAY.isoformat(), "end_date": DAY.isoformat()},
            group_by=["date", "adgroup_id"],
            fields=FIELDS,
        ).json()["data"]["list"]
        as_text = [{k: str(v) for k, v in row.items()} for row in sync]
        assert by_account.get(account, []) == as_text, account


def test_one_task_per_account_id_per_cooldown() -> None:
    with _sim(cooldown_s=60) as sim, SimClient(sim.base_url) as client:
        agency, token = _agency(sim)
        assert _add(client, token, agency)["code"] == 0
        refused = _add(client, token, agency, task_name="again")
        assert refused["code"] == 11019 and "one task per account_id" in refused["message"]
        listed = client.gdt("/v3.0/async_reports/get", token, account_id=agency).json()["data"]
        assert [t["task_name"] for t in listed["list"]] == ["ark-test"]  # the refused one made nothing
        other = sim.world.agents("gdt", TENANT)[1].agent_id  # another agency of the tenant
        assert _add(client, token, other)["code"] == 12203
        # a sub-customer has a cooldown of its own
        account = sim.world.agent_accounts("gdt", TENANT, agency)[0].account_id
        assert _add(client, token, account)["code"] == 0


def test_a_failed_task_and_an_expired_file() -> None:
    with _sim(fail_rate=1.0) as sim, SimClient(sim.base_url) as client:
        agency, token = _agency(sim)
        task = _wait(client, token, agency, _add(client, token, agency)["data"]["task_id"])
        assert task["status"] == "TASK_STATUS_FAIL" and task["result"]["code"] == 51001
        assert "data" not in task["result"]
    with _sim(expire_s=0.2) as sim, SimClient(sim.base_url) as client:
        agency, token = _agency(sim)
        task_id = _add(client, token, agency)["data"]["task_id"]
        file_id = _wait(client, token, agency, task_id)["result"]["data"]["file_info_list"][0]["file_id"]
        time.sleep(0.3)
        assert _task(client, token, agency, task_id)["status"] == "TASK_STATUS_EXPIRED"
        gone = client.gdt("/v3.0/async_report_files/get", token, task_id=task_id, file_id=file_id).json()
        assert gone["code"] == 31002 and "expired" in gone["message"]


def test_split_files_and_files_that_leave_accounts_out() -> None:
    with _sim(file_rows=3) as sim, SimClient(sim.base_url) as client:
        agency, token = _agency(sim)
        task_id = _add(client, token, agency)["data"]["task_id"]
        files = _wait(client, token, agency, task_id)["result"]["data"]["file_info_list"]
        rows = []
        for listed in files:
            text = client.gdt(
                "/v3.0/async_report_files/get", token, task_id=task_id, file_id=listed["file_id"]
            ).text
            assert len(_rows(text)) <= 3
            rows += _rows(text)
        assert len(files) > 1 and len(rows) > 3
    with _sim(drop_accounts=0.5) as sim, SimClient(sim.base_url) as client:
        agency, token = _agency(sim)
        task_id = _add(client, token, agency)["data"]["task_id"]
        listed = _wait(client, token, agency, task_id)["result"]["data"]["file_info_list"][0]
        text = client.gdt(
            "/v3.0/async_report_files/get", token, task_id=task_id, file_id=listed["file_id"]
        ).text
        spending = [a.account_id for a in sim.world.agent_accounts("gdt", TENANT, agency)]
        spending = [a for a in spending if sim.world.spends("gdt", a, DAY)]
        assert 0 < len({row["account_id"] for row in _rows(text)}) < len(spending)


def test_an_unsigned_download_address_serves_only_its_file(sim: RunningSimulator, client: SimClient) -> None:
    agency, token = _agency(sim)
    task_id = _add(client, token, agency)["data"]["task_id"]
    listed = _wait(client, token, agency, task_id)["result"]["data"]["file_info_list"][0]
    redirect = client.session.get(
        f"{sim.base_url}/gdt/v3.0/async_report_files/get",
        params=sim_sign(token, task_id=task_id, file_id=listed["file_id"]),
        allow_redirects=False,
    )
    assert redirect.status_code == 302
    address = redirect.headers["Location"]
    assert client.session.get(f"{sim.base_url}{address}").status_code == 200
    assert client.session.get(f"{sim.base_url}{address[:-1]}x").status_code == 404


def sim_sign(token: str, **params: Any) -> dict[str, str]:
    from ark_sim.media.gdt import tencent_sign

    return tencent_sign(token, params)[0]
