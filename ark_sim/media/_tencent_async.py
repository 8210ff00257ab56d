"""Tencent v3.0 asynchronous reports: a task for an account id (an agency's covers all its
sub-customers), its state while the client polls, and its file.

The flow (D-async: developers.e.qq.com/docs/insights/ad_insights/async_reports): `async_reports/add`
(a POST with a JSON body, TGo3 `pkg/api/v3/api_async_reports.go`) answers a `task_id`;
`async_reports/get` lists an account's tasks with their `status` and, once completed, `result.data.
file_info_list` of `{file_id, md5}` (TGo3 `pkg/model/v3/model_task_list_struct.go`, `model_result.go`,
`model_file_info.go`); `async_report_files/get` (TGo3 `pkg/api/v3/api_async_report_files.go`, host
`dl.e.qq.com` on D-files3) redirects to the file's download address. One task per account id per 5
minutes (D-async); async reports are outside the row quotas (N-rows2). The task book is
`ark_sim/tasks.py`; the rows are the synchronous reports' (`_tencent_rows.py`), so a file holds
exactly what `daily_reports/get` / `hourly_reports/get` answer for each sub-customer.

The file's format has no source (the SDK returns the body as a string; D-files3 says only that the
call redirects to the file): the simulator serves CSV, UTF-8, a header row of the task's
`report_fields` in their order, one line per row, sub-customers by id and each one's rows in the
synchronous report's order, an empty cell for a dimension the row does not show.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from ark_sim.common import ApiError, Outgoing, dumps, page_info, page_slice, project
from ark_sim.contract import NO_SOURCE, Args, EndpointContract, Field, Param, Rule, Type, int64, paging
from ark_sim.media import _tencent_v3 as v3
from ark_sim.media._tencent_rows import LevelReport
from ark_sim.profiles import unit
from ark_sim.tasks import COMPLETED, EXPIRED, Cooldown, Task, TaskFile

if TYPE_CHECKING:
    from ark_sim.media.gdt import Call, TencentApi

ADD = "async_reports/add"
GET = "async_reports/get"
FILES = "async_report_files/get"
DOWNLOAD = "async_report_files/download"  # the download address files/get redirects to (no quota)
DOWNLOAD_PREFIX = "/download/"
API_FILE = "TGo3 `pkg/api/v3/api_async_reports.go`"
FILES_FILE = "TGo3 `pkg/api/v3/api_async_report_files.go`"
GRANULARITY = {"DAILY": "daily", "HOURLY": "hourly"}
TASK_FIELDS = ("task_id", "task_name", "status", "created_time", "result")
# which code a task asked inside the cooldown carries has no source: 11019 is D-err3's "frequency control"
COOLDOWN_CODE = 11019
# a task id, file id or download address that names nothing (or a file not ready): no source names it
NOT_READY_CODE = 31002
# the result code of a TASK_STATUS_FAIL task: "unable to process fetching reports" (D-err3)
FAILED_CODE = 51001


def _fields_fit(levels: Mapping[str, str]):
    def check(args: Args, today: date) -> str | None:
        kind = GRANULARITY[args["granularity"]]
        base = levels[args["level"]]
        time_dim = "date" if kind == "daily" else "hour"
        allowed = {time_dim, "account_id", *v3.LEVEL_DIMENSIONS[base], *v3.METRICS_INT, *v3.METRICS_FLOAT}
        outside = [f for f in args["report_fields"] if f not in allowed]
        return (
            f"report_fields {outside} are not shown at {args['level']} {args['granularity']}"
            if outside
            else None
        )

    return check


def _groups_fit(levels: Mapping[str, str]):
    def check(args: Args, today: date) -> str | None:
        allowed = v3.GROUP_BY[GRANULARITY[args["granularity"]]][levels[args["level"]]]
        given = args["group_by"]
        if given is not None and any(g not in allowed for g in given):
            return f"group_by {given} is not valid at {args['level']}; allowed: {list(allowed)}"
        return None

    return check


def add_contract(levels: Mapping[str, str]) -> EndpointContract:
    """`POST /v3.0/async_reports/add` at the media's v3.0 `levels` (request level -> base level)."""
    every_field = tuple(dict.fromkeys(n for kind in ("daily", "hourly") for n, _ in v3.DIMENSIONS[kind]))
    return EndpointContract(
        name=ADD,
        method="POST",
        path=f"/{v3.V30}/{ADD}",
        version=v3.V30,
        source=f"{API_FILE}; D-add3",
        body=True,
        params=(
            int64(
                "account_id",
                "D-add3 (包括代理商和广告主帐号 id); required: " + NO_SOURCE + " (optional in TGo3 "
                "`pkg/model/v3/model_async_reports_add_request.go`)",
                required=True,
                low=1,
                strict_json=True,
                note="an agency (every sub-customer's rows) or one of its advertisers",
            ),
            Param(name="task_name", type=Type.STRING, required=True, low=1, high=120, source="D-add3"),
            Param(
                name="report_fields",
                type=Type.STRINGS,
                required=True,
                low=1,
                high=1024,
                values=(*every_field, *v3.METRICS_INT, *v3.METRICS_FLOAT),
                codes={"not_in_enum": 12009},
                source="D-add3 (1–1024 items); names: " + v3.DAILY_MODEL + ", " + v3.HOURLY_MODEL,
            ),
            Param(
                name="level",
                type=Type.ENUM,
                required=True,
                values=tuple(levels),
                note="other levels of the enum: 18009 (the simulator serves these)",
                source="TGo3 `pkg/model/v3/model_async_report_level.go` (24 values; no CAMPAIGN, AD or "
                "_WECHAT)",
            ),
            Param(
                name="filtering",
                type=Type.OBJECTS,
                low=1,
                high=5,
                members=(
                    Param(
                        name="field",
                        type=Type.ENUM,
                        required=True,
                        values=("adgroup_id", "dynamic_creative_id"),
                        source="D-add3",
                    ),
                    Param(
                        name="operator",
                        type=Type.ENUM,
                        required=True,
                        values=("EQUALS", "IN"),
                        source="D-add3",
                    ),
                    Param(name="values", type=Type.STRINGS, required=True, low=1, high=100, source=NO_SOURCE),
                ),
                source="D-add3 (1–5 items); TGo3 `pkg/model/v3/model_async_reports_filtering_struct.go`",
            ),
            Param(
                name="time_line",
                type=Type.ENUM,
                values=("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME"),
                default="REQUEST_TIME",
                source="TGo3 `pkg/model/v3/model_time_line.go`; default: " + NO_SOURCE,
            ),
            Param(
                name="group_by",
                type=Type.STRINGS,
                low=1,
                high=5,
                source="TGo3 `pkg/model/v3/model_async_reports_add_request.go`; 1–5 items and the level's "
                "keys (as the synchronous reports): " + NO_SOURCE,
            ),
            Param(
                name="granularity",
                type=Type.ENUM,
                required=True,
                values=tuple(GRANULARITY),
                source="TGo3 `pkg/model/v3/model_report_granularity.go`; required: " + NO_SOURCE,
            ),
            Param(
                name="date",
                type=Type.DATE,
                required=True,
                source="TGo3 `pkg/model/v3/model_async_reports_add_request.go`; required: " + NO_SOURCE,
            ),
            int64(
                "organization_id",
                "TGo3 `pkg/model/v3/model_async_reports_add_request.go`",
                strict_json=True,
                note="accepted and ignored (the simulator serves no organisations)",
            ),
        ),
        rules=(
            Rule(
                text="`report_fields` holds only what the level shows at the granularity (its time "
                "dimension, `account_id`, its dimensions and the metrics)",
                code=12009,
                source=NO_SOURCE + " (as the synchronous reports)",
                check=_fields_fit(levels),
            ),
            Rule(
                text="`group_by` holds only the level's keys",
                code=18009,
                source=NO_SOURCE + " (as the synchronous reports)",
                check=_groups_fit(levels),
            ),
        ),
        records_at="data",
        records=(
            Field(
                name="task_id",
                type="int64",
                source="TGo3 `pkg/model/v3/model_async_reports_add_response_data.go`",
            ),
        ),
        notes=(
            "One task per account_id every `[media.<m>.async_reports] cooldown_s` (vendor: 5 minutes, "
            "D-async; the vendor says the cooldown is shared by every task type); a task asked sooner is "
            "refused with "
            f"{COOLDOWN_CODE} ({NO_SOURCE}: no source names the code) and creates nothing.",
            "Async reports are outside the row quotas (N-rows2): the simulator counts no rows for them.",
        ),
    )


def get_contract() -> EndpointContract:
    """`GET /v3.0/async_reports/get`: an account's tasks, newest first."""
    return EndpointContract(
        name=GET,
        method="GET",
        path=f"/{v3.V30}/{GET}",
        version=v3.V30,
        source=API_FILE,
        params=(
            int64(
                "account_id",
                f"{API_FILE} (optional); required, and the id the task was created for: " + NO_SOURCE,
                required=True,
                low=1,
                note="the id the tasks were created for (an agency's own id too)",
            ),
            Param(
                name="filtering",
                type=Type.OBJECTS,
                low=1,
                high=5,
                members=(
                    Param(
                        name="field",
                        type=Type.ENUM,
                        required=True,
                        values=("task_id", "task_name"),
                        source="D-get3",
                    ),
                    Param(
                        name="operator",
                        type=Type.ENUM,
                        required=True,
                        values=("EQUALS", "IN", "CONTAINS"),
                        source="D-get3",
                    ),
                    Param(name="values", type=Type.STRINGS, required=True, low=1, high=100, source="D-get3"),
                ),
                source=f"{API_FILE}; D-get3",
            ),
            *paging(
                page_source="D-get3", size_source="D-get3", size_high=100, size_default=10, page_high=99999
            ),
            Param(
                name="fields",
                type=Type.STRINGS,
                low=1,
                values=TASK_FIELDS,
                note="absent: all of them",
                source=API_FILE,
            ),
            int64("organization_id", API_FILE, note="accepted and ignored"),
        ),
        paging="`page`, `page_size` → `data.page_info`; stop when `page ≥ total_page`",
        records=(
            Field(name="task_id", type="int64", source="TGo3 `pkg/model/v3/model_task_list_struct.go`"),
            Field(name="task_name", type="string", source="TGo3 `pkg/model/v3/model_task_list_struct.go`"),
            Field(
                name="status",
                type="string",
                note="TASK_STATUS_PENDING, _PROCESSING, _COMPLETED, _FAIL, _EXPIRED",
                source="TGo3 `pkg/model/v3/model_task_status.go`",
            ),
            Field(name="created_time", type="int64", source="TGo3 `pkg/model/v3/model_task_list_struct.go`"),
            Field(
                name="result",
                type="object",
                note="`{code, message, data: {file_info_list: [{file_id, md5}]}}` once completed (FAIL: "
                f"code {FAILED_CODE}, no data)",
                source="TGo3 `pkg/model/v3/model_result.go`, `model_data.go`, `model_file_info.go`",
            ),
        ),
        notes=(
            "A task is PENDING `pending_s`, PROCESSING `processing_s`, then COMPLETED, or FAIL for "
            "`fail_rate` of tasks; EXPIRED (its file gone) `expire_s` after it completed "
            "(`[media.<m>.async_reports]`; vendor: a file may be downloaded for 24 hours, D-rget3): how "
            "long the media take has no source (the simulator's choice).",
        ),
    )


def files_contract() -> EndpointContract:
    """`GET /v3.0/async_report_files/get`: a redirect to the file's download address."""
    return EndpointContract(
        name=FILES,
        method="GET",
        path=f"/{v3.V30}/{FILES}",
        version=v3.V30,
        source=f"{FILES_FILE}; D-files3 (host `dl.e.qq.com`)",
        params=(
            int64(
                "account_id",
                f"{FILES_FILE} (optional); D-files3 (不支持代理商 id, which cannot hold for an agency's "
                "task: the simulator takes the id the task was created for: " + NO_SOURCE + ")",
                low=1,
            ),
            int64("task_id", FILES_FILE, required=True, low=1),
            int64("file_id", FILES_FILE, required=True, low=1),
            int64("organization_id", FILES_FILE, note="accepted and ignored"),
            Param(name="fields", type=Type.STRINGS, low=1, source=FILES_FILE, note="accepted and ignored"),
        ),
        records_at="(the file)",
        notes=(
            "Answers HTTP 302 to the file's download address (D-files3: 重定向到异步报表文件下载地址); the "
            "download needs no token and uses no quota (" + NO_SOURCE + "). D-files3 advises downloading the "
            "whole file before parsing it.",
            "The file: CSV, UTF-8, a header row of `report_fields` in their order, one line per row, "
            "sub-customers by id, an empty cell for a dimension the row does not show; its md5 is the "
            "`file_info_list` entry's (" + NO_SOURCE + ": no source states the format; the SDK returns the "
            "body as a string).",
            f"A task that is not COMPLETED, or an unknown task or file, is refused with {NOT_READY_CODE} "
            f"({NO_SOURCE}: no source names the code).",
        ),
    )


# -- handlers ---------------------------------------------------------------------------------------


def async_add(api: TencentApi, call: Call) -> dict:
    a = call.args
    spec = {
        k: a[k]
        for k in ("level", "report_fields", "filtering", "time_line", "group_by", "granularity", "date")
    }
    try:
        task = call.state.tasks.create(
            api.media,
            call.tenant,
            agent_id=call.grant.agent_id,
            account_id=a["account_id"],
            name=a["task_name"],
            spec=spec,
        )
    except Cooldown as exc:
        raise ApiError(COOLDOWN_CODE, str(exc)) from None
    return {"task_id": task.task_id}


def async_get(api: TencentApi, call: Call) -> dict:
    a = call.args
    tasks = call.state.tasks.of_account(api.media, call.tenant, a["account_id"])
    tasks = [t for t in tasks if t.agent_id == call.grant.agent_id and _matches(a["filtering"], t)]
    fields = a["fields"] or TASK_FIELDS
    rows = [project(_task_item(api, call, t), fields) for t in tasks[page_slice(a["page"], a["page_size"])]]
    return {"list": rows, "page_info": page_info(a["page"], a["page_size"], len(tasks))}


def _matches(filtering: list[dict] | None, task: Task) -> bool:
    for item in filtering or ():
        value = str(task.task_id) if item["field"] == "task_id" else task.name
        if item["operator"] == "CONTAINS":
            if not any(v in value for v in item["values"]):
                return False
        elif value not in item["values"]:
            return False
    return True


def _task_item(api: TencentApi, call: Call, task: Task) -> dict:
    status = call.state.tasks.status(task)
    item: dict[str, Any] = {
        "task_id": task.task_id,
        "task_name": task.name,
        "status": status,
        "created_time": int(task.created),
    }
    if status == COMPLETED:
        files = call.state.tasks.keep_files(task, lambda t: build_files(api, call, t))
        listed = [{"file_id": f.file_id, "md5": f.md5} for f in files]
        item["result"] = {"code": 0, "message": "", "data": {"file_info_list": listed}}
    elif status == "TASK_STATUS_FAIL":
        item["result"] = {"code": FAILED_CODE, "message": "unable to process fetching reports, retry later"}
    return item


def async_files(api: TencentApi, call: Call) -> Outgoing:
    a = call.args
    task = call.state.tasks.task(api.media, call.tenant, a["task_id"])
    if task is None or task.agent_id != call.grant.agent_id:
        raise ApiError(NOT_READY_CODE, f"task_id {a['task_id']} is no task of this token")
    if a["account_id"] is not None and a["account_id"] != task.account_id:
        raise ApiError(12203, f"task {task.task_id} was created for another account_id")
    status = call.state.tasks.status(task)
    if status != COMPLETED:
        gone = " (its file expired)" if status == EXPIRED else ""
        raise ApiError(NOT_READY_CODE, f"task {task.task_id} is {status}{gone}: no file to get")
    files = call.state.tasks.keep_files(task, lambda t: build_files(api, call, t))
    chosen = [f for f in files if f.file_id == a["file_id"]]
    if not chosen:
        raise ApiError(NOT_READY_CODE, f"task {task.task_id} has no file_id {a['file_id']}")
    key = _download_key(task, chosen[0])
    location = f"/{api.media}{DOWNLOAD_PREFIX}{task.task_id}/{chosen[0].file_id}/{key}"
    return Outgoing(302, b"", "0", {"Location": location}, content_type="text/plain")


def download(api: TencentApi, state: Any, path: str) -> Outgoing:
    """The bytes behind a download address (`/download/<task>/<file>/<key>`), or 404."""
    parts = path[len(DOWNLOAD_PREFIX) :].split("/")
    task = None
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
        task = state.tasks.by_id(api.media, int(parts[0]))
    if task is not None and task.files is not None and state.tasks.status(task) == COMPLETED:
        for file in task.files:
            if file.file_id == int(parts[1]) and _download_key(task, file) == parts[2]:
                return Outgoing(200, file.body, "0", content_type="text/csv")
    return Outgoing(404, b"no such file", "404", content_type="text/plain")


def _download_key(task: Task, file: TaskFile) -> str:
    """An unguessable part of a file's address: its md5 salted with the task's creation time."""
    return hashlib.sha256(f"{task.created!r}{file.md5}".encode()).hexdigest()[:24]


# -- the file -----------------------------------------------------------------------------------------


def build_files(api: TencentApi, call: Call, task: Task) -> list[TaskFile]:
    """A completed task's file(s): the rows of every sub-customer of the agency it was created for
    (or of the one advertiser), in CSV (see the module doc); `file_rows` splits them."""
    spec = task.spec
    kind = GRANULARITY[spec["granularity"]]
    base = api.levels[v3.V30][spec["level"]]
    defaults = tuple(g for g in v3.GROUP_BY[kind][base] if g != "site_set")
    report = LevelReport(
        kind=kind,
        group_keys=tuple(dict.fromkeys(spec["group_by"] or defaults)),
        fields=tuple(spec["report_fields"]),
        filters=[(item["field"], set(item["values"])) for item in spec["filtering"] or ()],
    )
    world, state = call.state.world, call.state
    limits = state.tasks.limits(api.media)
    if world.find_agent(api.media, task.tenant, task.account_id) is not None:
        accounts = sorted(a.account_id for a in world.agent_accounts(api.media, task.tenant, task.account_id))
    else:
        accounts = [task.account_id]
    rows = []
    drops = limits.drop_accounts if not limits.drop_levels or spec["level"] in limits.drop_levels else 0.0
    for account in accounts:
        if unit(state.config.fault_seed, api.media, task.task_id, account, "drop") < drops:
            continue
        rows.extend(report.rows(world, api.media, account, [spec["date"]], spec["time_line"]))
    size = limits.file_rows or max(1, len(rows))
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]
    return [_file(task, n, report.fields, chunk) for n, chunk in enumerate(chunks, 1)]


def _file(task: Task, number: int, fields: tuple[str, ...], rows: list[dict]) -> TaskFile:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in fields])
    body = out.getvalue().encode("utf-8")
    return TaskFile(file_id=task.task_id * 10 + number, body=body, md5=hashlib.md5(body).hexdigest())


def _cell(value: Any) -> str:
    """A CSV cell: JSON's spelling of numbers and booleans, text as it is, nothing for an absent value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return dumps(value).decode()


__all__ = [
    "ADD",
    "DOWNLOAD",
    "FILES",
    "GET",
    "add_contract",
    "async_add",
    "async_files",
    "async_get",
    "download",
    "files_contract",
    "get_contract",
]
