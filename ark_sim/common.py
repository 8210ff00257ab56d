"""Helpers every media's handlers share: requests, errors, parameter codes, pagination, query values."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A request the media answers with HTTP 200 and a non-zero body code."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Incoming:
    """One HTTP request, reduced to what a media's logic needs (no aiohttp types)."""

    method: str
    path: str  # below the media's base, with a leading slash, e.g. "/v1.1/funds/get"
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class Outgoing:
    """One HTTP response, and how the counters should file it."""

    status: int
    body: bytes
    outcome: str  # the body code as text, "malformed", "http_503", ...
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    throttled: bool = False


@dataclass(frozen=True)
class ParamCodes:
    """The body code a media answers for each kind of bad parameter."""

    missing: int
    wrong_type: int
    above_max: int
    below_min: int
    bad_json: int
    not_in_enum: int
    unknown: int  # a parameter the endpoint does not declare (or an object member it does not)


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON; Python ints stay exact, so int64 ids keep every digit."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def as_int(value: Any) -> int | None:
    """An int from an int or a decimal string (booleans and floats are refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def page_info(page: int, page_size: int, total: int) -> dict[str, int]:
    """`{page, page_size, total_number, total_page}` with total_page = ceil(total / page_size)."""
    return {
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": math.ceil(total / page_size) if page_size else 0,
    }


def page_slice(page: int, page_size: int) -> slice:
    start = (page - 1) * page_size
    return slice(start, start + page_size)


def project(row: Mapping[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    """The row restricted to `fields`, in their order (absent keys are skipped); all keys when None."""
    if fields is None:
        return dict(row)
    return {name: row[name] for name in fields if name in row}


def ratio(numerator: float, denominator: float, scale: float = 1.0, digits: int = 4) -> float:
    return round(numerator * scale / denominator, digits) if denominator else 0.0


def sum_metrics(rows: Iterable[Any], metrics: Sequence[str]) -> dict[str, int]:
    totals = dict.fromkeys(metrics, 0)
    for row in rows:
        for metric in metrics:
            totals[metric] += getattr(row, metric)
    return totals


def group_atoms(atoms: Iterable[Any], key: Callable[[Any], tuple]) -> list[tuple[tuple, list[Any]]]:
    """Atoms grouped by `key`, groups sorted by key."""
    groups: dict[tuple, list[Any]] = {}
    for atom in atoms:
        groups.setdefault(key(atom), []).append(atom)
    return sorted(groups.items())


def query_value(value: Any) -> str:
    """A client's query value: strings and ints as text, lists and dicts JSON-encoded."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
