"""Tencent Marketing API v3.0's asynchronous reports, shared by the media that speak it.

What the sources say (docs/media/gdt.md has the contract): `async_reports/add` (a POST, JSON body)
creates a task for an account id, and an agency's id covers all its sub-customers ("您的身份为代理商
身份,希望一次性获取名下所有子客的数据": developers.e.qq.com/docs/insights/ad_insights/async_reports);
one task per account id per 5 minutes (ibid.); async reports are outside the row quotas
(news/info/20190527); `async_reports/get` lists tasks with their status and, once completed, their
files by id and md5; `async_report_files/get` (host `dl.e.qq.com`) redirects to a file, which the
vendor advises downloading whole before parsing it. No source states the file's format: read as
CSV with the task's `report_fields` as its header (what the simulator serves; change it here and in
`fetch/report_file.py` if the media's differs). Sources: TencentAd marketing-api-go-sdk
`pkg/api/v3/api_async_reports.go`, `api_async_report_files.go`, `pkg/model/v3/model_task_list_struct.go`,
`model_result.go`, `model_file_info.go`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ark_assets.media.api import EndpointSpec, Paging
from ark_assets.media.bulk import DONE, FAILED, PENDING, AsyncReport

V30 = "v3.0"

GRANULARITY = {"daily": "DAILY", "hourly": "HOURLY"}
TASK_COOLDOWN_S = 300.0


def _task_body(kind: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A report call's parameters -> the async task asking the same of every sub-customer."""

    def task(params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "level": params["level"],
            "report_fields": list(params["fields"]),
            "group_by": list(params["group_by"]),
            "granularity": GRANULARITY[kind],
            "date": params["date_range"]["start_date"],
            "time_line": params.get("time_line", "REQUEST_TIME"),
        }

    return task


def _task_state(task: Mapping[str, Any]) -> str:
    status = task.get("status")
    if status in ("TASK_STATUS_PENDING", "TASK_STATUS_PROCESSING"):
        return PENDING
    return DONE if status == "TASK_STATUS_COMPLETED" else FAILED


def _task_files(task: Mapping[str, Any]) -> list[tuple[str, str]]:
    listed = ((task.get("result") or {}).get("data") or {}).get("file_info_list") or []
    return [(str(f["file_id"]), str(f["md5"])) for f in listed]


def async_report(kind: str, types: Mapping[str, type]) -> AsyncReport:
    """The asynchronous path of Tencent's `{kind}_reports/get` in v3.0; `types` types the file's columns."""
    return AsyncReport(
        add="async_reports/add",
        get="async_reports/get",
        files="async_report_files/get",
        task=_task_body(kind),
        task_id=lambda data: str(data["task_id"]),
        listing=lambda ids: {"filtering": [{"field": "task_id", "operator": "IN", "values": ids}]},
        state=_task_state,
        files_of=_task_files,
        file_params=lambda task_id, file_id: {"task_id": int(task_id), "file_id": int(file_id)},
        types=types,
        cooldown_s=TASK_COOLDOWN_S,
    )


ENDPOINTS = (
    EndpointSpec(name="async_reports/add", path=f"/{V30}/async_reports/add", method="POST", records=""),
    EndpointSpec(
        name="async_reports/get",
        path=f"/{V30}/async_reports/get",
        source_param="account_id",
        paging=Paging.PAGE,
        page_size=100,
    ),
    # the file: on `dl.e.qq.com` at the media (the connection's download URL), a redirect to it
    EndpointSpec(
        name="async_report_files/get",
        path=f"/{V30}/async_report_files/get",
        source_param="account_id",
        download=True,
        records="",
    ),
)
