"""The structured job log event the seed writes to Kafka (`{media}_api_log` topics).

Kept field for field as in the seed so existing log consumers keep working; the event is
scrubbed when it is built, so neither the Kafka topic nor the on-disk spool ever holds a
token or password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ark_assets.core.days import GMT8
from ark_assets.core.redact import redact, redact_text

__all__ = ["GMT8", "LOG_TIME_FORMAT", "JobLogEvent", "LogType", "now_log_time"]

LOG_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATA_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class LogType(StrEnum):
    """What happened to a job. The seed spells the first one `API_JOB_ATSRT` (a typo we drop)."""

    API_JOB_START = "API_JOB_START"
    API_JOB_END = "API_JOB_END"
    API_JOB_ERROR = "API_JOB_ERROR"
    API_JOB_THROTTLE = "API_JOB_THROTTLE"


def now_log_time() -> str:
    """The current time as the seed logs it: 'YYYY-MM-DD HH:MM:SS' in GMT+8."""
    return datetime.now(GMT8).strftime(LOG_TIME_FORMAT)


@dataclass(frozen=True)
class JobLogEvent:
    """One job log event; `argv` (the job's parameters) and `log_content` are redacted on creation.

    `agent_id` is stored as a string whatever the caller passes, so consumers see one type
    (job parameters carry it as an int, Redis scores as a float-looking string).
    """

    tenant: str
    cur_job: str
    interface: str
    agent_id: int | str  # stored as str
    data_date: str
    argv: Mapping[str, Any]
    log_content: str
    log_type: LogType
    log_time: str = field(default_factory=now_log_time)

    def __post_init__(self) -> None:
        _check_data_date(self.data_date)
        _check_log_time(self.log_time)
        object.__setattr__(self, "agent_id", str(self.agent_id))
        object.__setattr__(self, "log_type", LogType(self.log_type))
        object.__setattr__(self, "argv", redact(dict(self.argv)))
        object.__setattr__(self, "log_content", redact_text(self.log_content))

    def to_dict(self) -> dict[str, Any]:
        """The event as the JSON object published to Kafka."""
        event = asdict(self)
        event["log_type"] = self.log_type.value
        return event


def _check_data_date(value: object) -> None:
    """Reject anything but a real 'YYYY-MM-DD' date: downstream events are keyed on the dashed form."""
    if isinstance(value, str) and _DATA_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
            return
        except ValueError:
            pass
    raise ValueError(f"data_date {value!r} is not a 'YYYY-MM-DD' date (with dashes, e.g. '2020-05-10')")


def _check_log_time(value: object) -> None:
    """Reject a log_time that is not 'YYYY-MM-DD HH:MM:SS'."""
    try:
        datetime.strptime(value, LOG_TIME_FORMAT)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"log_time {value!r} is not 'YYYY-MM-DD HH:MM:SS' (GMT+8)") from None
