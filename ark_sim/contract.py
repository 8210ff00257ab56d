"""Endpoint contracts as data: one table validates every request and writes the docs' tables.

Each media module declares, per API version it serves, one `EndpointContract` per endpoint:
every parameter with its type, whether it is required, its allowed values, limits and default,
the cross-parameter rules, the paging fields and stop rule, the record fields, and the source of
each row (an SDK file at a commit, or a doc page), or `NO_SOURCE` where none states it and the
value is the simulator's own choice. The request pipeline runs `EndpointContract.check` before a
handler sees a request, so a mistyped, missing, out-of-range or undeclared parameter gets the
media's parameter error naming it; handlers read the checked, typed values (`Args`). The docs
(`docs/media/<media>.md`) carry the same tables, rendered by `render` (`ark-sim contracts`), and a
test keeps them current: one source of truth, no drift between what the docs say and what the
simulator enforces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from ark_sim.common import ApiError, ParamCodes

NO_SOURCE = "no source: the simulator's choice"
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)


class Type(StrEnum):
    """A parameter's type on the wire (query text, or a JSON body's native value)."""

    INT64 = "int64"
    INT32 = "int32"
    STRING = "string"
    BOOL = "bool"
    DATE = "string YYYY-MM-DD"
    ENUM = "enum string"
    STRINGS = "JSON [string]"
    INT64S = "JSON [int64] (numbers)"
    OBJECT = "JSON object"
    OBJECTS = "JSON [object]"


def int64(name: str, source: str, **rest: Any) -> Param:
    """An int64 parameter, the commonest row of every table."""
    return Param(name=name, type=Type.INT64, source=source, **rest)


def paging(
    *,
    page_source: str,
    size_source: str,
    size_high: int | None,
    size_default: int,
    page_high: int | None = None,
) -> tuple[Param, Param]:
    """`page` (from 1, default 1) and `page_size` (from 1, default `size_default`), as every page
    mode here takes them."""
    return (
        int64("page", page_source, low=1, high=page_high, default=1),
        int64("page_size", size_source, low=1, high=size_high, default=size_default),
    )


def date_span(source: str) -> tuple[Param, Param]:
    """`start_date` and `end_date`, both required days, as every report takes them."""
    return (
        Param(name="start_date", type=Type.DATE, required=True, source=source),
        Param(name="end_date", type=Type.DATE, required=True, source=source),
    )


class ParamError(ApiError):
    """A parameter the contract refuses; `param` is its (dotted) name, for Tencent's `errors[]`."""

    def __init__(self, code: int, message: str, param: str) -> None:
        super().__init__(code, message)
        self.param = param


@dataclass(frozen=True, kw_only=True)
class Param:
    """One request parameter (or a member of a JSON object parameter).

    Args:
        name: as on the wire.
        type: its wire type.
        source: where the row's facts are stated (or NO_SOURCE).
        required: absent (or empty) is the media's "missing" error.
        values: ENUM: the allowed values; STRINGS: the allowed items (empty = any string).
        low / high: integers: the value range; arrays: the number of items; strings: bytes.
        default: what the handler reads when the parameter is absent (shown in the docs).
        members: OBJECT / OBJECTS: the object's members.
        open: OBJECT / OBJECTS: members not declared are accepted (and ignored) instead of refused.
        strict_json: in a JSON body the value must be a JSON number (or bool), not text.
        codes: per-kind codes overriding the API's (`ParamCodes` field names), e.g. a `fields`
            array with its own "not an array" code.
        note: shown in the docs (e.g. what another version requires).
    """

    name: str
    type: Type
    source: str
    required: bool = False
    values: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    default: Any = None
    members: tuple[Param, ...] = ()
    open: bool = False
    strict_json: bool = False
    codes: Mapping[str, int] = field(default_factory=dict)
    note: str = ""

    def code(self, kind: str, codes: ParamCodes) -> int:
        return self.codes.get(kind, getattr(codes, kind))


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule over several parameters (or the clock), checked after every parameter passed.

    `check(args, today)` returns None when the request obeys it, else the message of the error
    with `code`.
    """

    text: str
    code: int
    source: str
    check: Callable[[Args, date], str | None]


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of an endpoint's records: JSON type (`int64`, `float64`, `string`, `bool`,
    `object`, `[int64]`, `[string]`, `[object]`), and its source."""

    name: str
    type: str
    source: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Row:
    """A fact of the docs' convention, code and quota tables: `point` | `value` | `source`."""

    point: str
    value: str
    source: str


@dataclass(frozen=True, kw_only=True)
class Code:
    """A body code: its meaning, source, and how to get it from the simulator."""

    code: int
    meaning: str
    source: str
    emitted: str


class Args(dict[str, Any]):
    """The checked, typed parameters of one request (defaults filled in); `sent` names the ones
    the request carried (a paging mode can hang on whether a parameter was sent at all)."""

    sent: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class EndpointContract:
    """One endpoint of one API version.

    Args:
        name: the endpoint as quotas and counters name it (`funds/get`), the same in every version.
        method / path: as requested below the media's base URL (`/v1.3/funds/get`).
        version: the API version the path belongs to (`v1.3`; "-" for an unversioned path).
        source: where the endpoint itself is stated.
        params: every parameter it takes (the API's auth parameters aside).
        body: the parameters travel as a JSON body (a POST), not in the query string.
        rules: checks over several parameters.
        paging: the paging fields and the stop rule, for the docs.
        records_at: where the records sit in `data`.
        records: the record fields the simulator serves.
        notes: further facts for the docs (each one with its source in the text).
    """

    name: str
    method: str
    path: str
    version: str
    source: str
    params: tuple[Param, ...]
    body: bool = False
    rules: tuple[Rule, ...] = ()
    paging: str = "none: one call answers everything"
    records_at: str = "data.list"
    records: tuple[Field, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.method} {self.path}: a parameter is declared twice in {names}")

    def param(self, name: str) -> Param:
        for declared in self.params:
            if declared.name == name:
                return declared
        raise KeyError(f"{self.path} declares no parameter {name!r}")

    def check(self, values: Mapping[str, Any], codes: ParamCodes, today: date) -> Args:
        """The typed parameters, or a ParamError naming the first one the contract refuses.

        `values` holds the query's text values (and a JSON body's native ones); the caller has
        removed the API's auth parameters. Undeclared parameters are refused (the simulator's
        choice: no source says how the media treat one, and a misspelt parameter must not pass
        unnoticed).
        """
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            raise ParamError(
                codes.unknown,
                f"parameter {unknown[0]} is not a parameter of {self.method} {self.path} "
                f"(it takes {', '.join(p.name for p in self.params) or 'none'})",
                unknown[0],
            )
        args = Args()
        args.sent = frozenset(name for name, raw in values.items() if not _absent(raw))
        for declared in self.params:
            args[declared.name] = _value(declared, values.get(declared.name), codes, declared.name)
        for rule in self.rules:
            problem = rule.check(args, today)
            if problem is not None:
                raise ApiError(rule.code, problem)
        return args


def _absent(raw: Any) -> bool:
    return raw is None or raw == ""


def _value(declared: Param, raw: Any, codes: ParamCodes, where: str) -> Any:
    """One parameter's typed value (its default when absent), or a ParamError naming `where`."""
    if _absent(raw):
        if declared.required:
            raise ParamError(declared.code("missing", codes), f"missing required parameter {where}", where)
        return declared.default
    kind = declared.type
    if kind in (Type.INT64, Type.INT32):
        return _limited(declared, _integer(declared, raw, codes, where), codes, where)
    if kind is Type.BOOL:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw in ("true", "false") and not declared.strict_json:
            return raw == "true"
        raise ParamError(
            declared.code("wrong_type", codes), f"parameter {where} must be true or false", where
        )
    if kind in (Type.STRING, Type.ENUM, Type.DATE):
        return _text(declared, raw, codes, where)
    parsed = _json(declared, raw, codes, where)
    if kind is Type.OBJECT:
        return _object(declared, parsed, codes, where)
    if not isinstance(parsed, list):
        raise ParamError(declared.code("wrong_type", codes), f"parameter {where} must be a JSON array", where)
    _count(declared, len(parsed), codes, where)
    if kind is Type.STRINGS:
        if not all(isinstance(v, str) for v in parsed):
            raise ParamError(
                declared.code("wrong_type", codes),
                f"parameter {where} must be a JSON array of strings",
                where,
            )
        outside = [v for v in parsed if declared.values and v not in declared.values]
        if outside:
            raise ParamError(
                declared.code("not_in_enum", codes),
                f"parameter {where} holds {outside[:5]}, not among the allowed {list(declared.values)}",
                where,
            )
        return parsed
    if kind is Type.INT64S:
        # JSON numbers: ["1", "2"] is refused, as a typed (int64) decoder refuses it
        bad = [
            v
            for v in parsed
            if isinstance(v, bool) or not isinstance(v, int) or not INT64[0] <= v <= INT64[1]
        ]
        if bad:
            raise ParamError(
                declared.code("wrong_type", codes),
                f"parameter {where} must be a JSON array of int64 numbers, got {bad[0]!r}",
                where,
            )
        return parsed
    return [_object(declared, item, codes, f"{where}[{i}]") for i, item in enumerate(parsed)]


def _integer(declared: Param, raw: Any, codes: ParamCodes, where: str) -> int:
    bounds = INT64 if declared.type is Type.INT64 else INT32
    number: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and not declared.strict_json:
        text = raw.strip()
        if text and (text[1:] if text[0] == "-" else text).isdigit():
            number = int(text)
    if number is None or not bounds[0] <= number <= bounds[1]:
        wanted = "a JSON number" if declared.strict_json else "an integer"
        raise ParamError(
            declared.code("wrong_type", codes),
            f"parameter {where} must be {wanted} ({declared.type}), got {raw!r}",
            where,
        )
    return number


def _limited(declared: Param, number: int, codes: ParamCodes, where: str) -> int:
    return _bounded(declared, number, codes, f"parameter {where}={number} is", where)


def _count(declared: Param, size: int, codes: ParamCodes, where: str, unit: str = "item(s)") -> None:
    _bounded(declared, size, codes, f"parameter {where} has {size} {unit},", where)


def _bounded(declared: Param, value: int, codes: ParamCodes, said: str, where: str) -> int:
    """`value` within the parameter's `low`..`high`, else its below-min / above-max error."""
    for kind, limit, outside, word in (
        ("below_min", declared.low, lambda: value < declared.low, "below the minimum"),
        ("above_max", declared.high, lambda: value > declared.high, "above the maximum"),
    ):
        if limit is not None and outside():
            raise ParamError(declared.code(kind, codes), f"{said} {word} {limit}", where)
    return value


def _text(declared: Param, raw: Any, codes: ParamCodes, where: str) -> Any:
    if not isinstance(raw, str):
        raise ParamError(declared.code("wrong_type", codes), f"parameter {where} must be a string", where)
    if declared.type is Type.ENUM and raw not in declared.values:
        raise ParamError(
            declared.code("not_in_enum", codes),
            f"parameter {where}={raw!r} is not one of {list(declared.values)}",
            where,
        )
    if declared.type is Type.DATE:
        try:
            if len(raw) != 10:  # Python also reads "YYYYMMDD"; the media do not
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise ParamError(
                declared.code("wrong_type", codes),
                f"parameter {where}={raw!r} is not a date YYYY-MM-DD",
                where,
            ) from None
    _count(declared, len(raw.encode()), codes, where, "bytes")
    return raw


def _json(declared: Param, raw: Any, codes: ParamCodes, where: str) -> Any:
    if not isinstance(raw, str):
        return raw  # a JSON body's native value
    try:
        return json.loads(raw)
    except ValueError:
        raise ParamError(
            declared.code("bad_json", codes), f"parameter {where} is not valid JSON: {raw[:80]!r}", where
        ) from None


def _object(declared: Param, parsed: Any, codes: ParamCodes, where: str) -> dict[str, Any]:
    if not isinstance(parsed, dict):
        raise ParamError(
            declared.code("wrong_type", codes), f"parameter {where} must be a JSON object", where
        )
    known = {m.name for m in declared.members}
    unknown = sorted(set(parsed) - known)
    if unknown and not declared.open:
        raise ParamError(
            declared.code("unknown", codes),
            f"{where} has no member {unknown[0]} (members: {', '.join(sorted(known))})",
            f"{where}.{unknown[0]}",
        )
    checked = {k: v for k, v in parsed.items() if k not in known}
    for member in declared.members:
        checked[member.name] = _value(member, parsed.get(member.name), codes, f"{where}.{member.name}")
    return checked


# ----- one media's whole contract, and its docs


@dataclass(frozen=True, kw_only=True)
class ApiContract:
    """Everything the docs say about one media's API (the generated part of docs/media/<media>.md).

    Args:
        media: the media's name (the docs page).
        sources: citation key -> what it is (repository @ commit, or doc URL).
        versions: version -> what it is and where that is stated.
        conventions: envelope, auth, encoding, money, trace ids.
        auth: the parameters every authenticated call carries (checked by the media's pipeline).
        endpoints: every endpoint the simulator serves, in every version.
        codes: every body code the simulator answers, and the ones the platform maps.
        quota: the quota signals.
        retired: endpoints the media no longer serve: since when, and what replaces them.
    """

    media: str
    sources: tuple[Row, ...]
    versions: tuple[Row, ...]
    conventions: tuple[Row, ...]
    auth: tuple[Param, ...]
    endpoints: tuple[EndpointContract, ...]
    codes: tuple[Code, ...]
    quota: tuple[Row, ...]
    retired: tuple[Row, ...] = ()


BEGIN = (
    "<!-- contract: generated by `ark-sim contracts --write` from the simulator's contract "
    "tables; edit those -->"
)
END = "<!-- contract: end -->"


def render(contract: ApiContract) -> str:
    """The Markdown of one media's contract, between the BEGIN and END markers."""
    out = [BEGIN, "", "## Contract (what the simulator enforces, with sources)", ""]
    out += [
        "Every row cites its source by key (table below) and path, or says "
        f"*{NO_SOURCE}*: then no SDK or documentation states it and the simulator picks a value.",
        "",
    ]
    out += _table(("key", "source"), [(f"**{r.point}**", r.value) for r in contract.sources])
    out += ["", "### Versions", ""]
    out += _table(
        ("version", "what it is", "source"), [(r.point, r.value, r.source) for r in contract.versions]
    )
    out += ["", "### Conventions", ""]
    out += _table(("point", "value", "source"), [(r.point, r.value, r.source) for r in contract.conventions])
    if contract.auth:
        out += ["", "Parameters of every authenticated call:", ""]
        out += _params(contract.auth)
    for endpoint in contract.endpoints:
        out += ["", f"### `{endpoint.method} {endpoint.path}` ({endpoint.name}, {endpoint.version})", ""]
        out += [f"Source: {endpoint.source}.", ""]
        where = "JSON body" if endpoint.body else "query string"
        out += [f"Parameters ({where}):", ""] if endpoint.params else ["No parameters.", ""]
        out += _params(endpoint.params)
        if endpoint.rules:
            out += ["", "Rules:", ""]
            out += _table(
                ("rule", "code", "source"), [(r.text, str(r.code), r.source) for r in endpoint.rules]
            )
        out += ["", f"Paging: {endpoint.paging}", ""]
        if endpoint.records:
            out += [f"Records at `{endpoint.records_at}`:", ""]
            out += _table(
                ("field", "type", "source"),
                [
                    (f"`{f.name}`", f.type + (f" ({f.note})" if f.note else ""), f.source)
                    for f in endpoint.records
                ],
            )
        for note in endpoint.notes:
            out += ["", f"- {note}"]
    out += ["", "### Codes", ""]
    out += _table(
        ("code", "meaning", "source", "the simulator answers it"),
        [(str(c.code), c.meaning, c.source, c.emitted) for c in sorted(contract.codes, key=lambda c: c.code)],
    )
    out += ["", "### Quota signals", ""]
    out += _table(("signal", "value", "source"), [(r.point, r.value, r.source) for r in contract.quota])
    if contract.retired:
        out += ["", "### Retired endpoints", ""]
        out += _table(
            ("endpoint", "what the simulator does", "source"),
            [(r.point, r.value, r.source) for r in contract.retired],
        )
    out += ["", END]
    return "\n".join(out) + "\n"


def _params(params: tuple[Param, ...], prefix: str = "") -> list[str]:
    rows = []

    def walk(items: tuple[Param, ...], prefix: str) -> None:
        for p in items:
            rows.append(
                (f"`{prefix}{p.name}`", p.type.value, "yes" if p.required else "no", _limits(p), p.source)
            )
            walk(p.members, f"{prefix}{p.name}.")

    walk(params, prefix)
    return _table(("parameter", "type", "required", "allowed / limits (default)", "source"), rows)


def _limits(p: Param) -> str:
    parts = []
    if p.values:
        parts.append(", ".join(f"`{v}`" for v in p.values))
    what = {Type.STRINGS: "items", Type.INT64S: "items", Type.OBJECTS: "items", Type.STRING: "bytes"}.get(
        p.type, ""
    )
    unit = f" {what}" if what else ""
    if p.low is not None and p.high is not None:
        parts.append(f"{p.low}–{p.high}{unit}")
    elif p.low is not None:
        parts.append(f"≥ {p.low}{unit}")
    elif p.high is not None:
        parts.append(f"≤ {p.high}{unit}")
    if p.open:
        parts.append("other members accepted and ignored")
    if p.strict_json:
        parts.append("a JSON number, not text")
    if p.default is not None:
        shown = json.dumps(p.default, ensure_ascii=False) if not isinstance(p.default, str) else p.default
        parts.append(f"(default {shown})")
    if p.note:
        parts.append(p.note)
    return "; ".join(parts) or "—"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def splice(page: str, generated: str) -> str:
    """`page` with its generated block replaced by `generated` (appended when it has none)."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < 0:
        return page.rstrip("\n") + "\n\n" + generated
    return page[:start] + generated + page[end + len(END) :].lstrip("\n")
