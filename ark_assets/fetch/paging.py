"""Paging strategies, one small class each: the first call's parameters, then from each answer
its records and the parameters of the next call (None on the last page).

`paginator(spec)` picks the endpoint's declared strategy; `PageWalk` walks one source's pages and
refuses a walk that never ends (a cursor seen twice, or `MAX_PAGES` pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ark_assets.media import errors as e
from ark_assets.media.api import EndpointSpec, Paging

MAX_PAGES = 10_000  # a source needing more is a cursor loop or a broken page count
PAGE_SIZE_PARAM = "page_size"  # page mode's page size, under this name at every media here


@dataclass
class Page:
    """One answer's records, and the parameters of the next call (None: this was the last page)."""

    records: list[dict[str, Any]]
    next_params: dict[str, Any] | None
    drop: tuple[str, ...] = ()  # parameters the next call must not carry (a change of paging mode)


class Paginator(Protocol):
    def first(self) -> dict[str, Any]:
        """The paging parameters of the first call."""
        ...

    def page(self, data: Any, records: list[dict[str, Any]], params: Mapping[str, Any]) -> Page:
        """The page `data` answered to a call with `params`."""
        ...


@dataclass(frozen=True)
class SinglePage:
    """Every record in one answer."""

    spec: EndpointSpec
    media: str

    def first(self) -> dict[str, Any]:
        return {}

    def page(self, data: Any, records: list[dict[str, Any]], params: Mapping[str, Any]) -> Page:
        return Page(records, None)


@dataclass(frozen=True)
class PageNumberPaginator:
    """`page` = 1, 2, ... while `page < page_info.total_page`. An empty page before the last one (a
    listing capped below its own total, like Tencent's normal mode at 1000 rows) fails the source."""

    spec: EndpointSpec
    media: str

    def first(self) -> dict[str, Any]:
        return {"page": 1, self.spec.page_size_param: self.spec.page_size}

    def page(self, data: Any, records: list[dict[str, Any]], params: Mapping[str, Any]) -> Page:
        info = data.get("page_info") if isinstance(data, dict) else None
        page, total = (info or {}).get("page", params.get("page", 1)), (info or {}).get("total_page", 0)
        if not _is_int(page) or not _is_int(total):  # "3" would silently end the walk at page 1
            raise e.BadResponse(
                self.media, "malformed", "page_info numbers are not integers", endpoint=self.spec.name
            )
        if page < total and not records:
            number = (info or {}).get("total_number")
            raise e.IncompletePages(
                self.media,
                "paging",
                f"page {page} of {total} came back empty"
                + (f" (page_info promises {number} records)" if _is_int(number) else "")
                + ": the list is capped below its own total, so this source's records are incomplete",
                endpoint=self.spec.name,
            )
        return Page(records, {"page": page + 1} if page < total else None)


@dataclass(frozen=True)
class CursorPaginator:
    """`cursor` from `<cursor_info>.cursor` while `has_more`. A cursor call answered in page mode (no
    source says which mode a first cursor call gets) is walked by page from there on, never read as
    the last page: the next calls carry page and page_size instead of the cursor parameters."""

    spec: EndpointSpec
    media: str

    def first(self) -> dict[str, Any]:
        return {self.spec.page_size_param: self.spec.page_size}

    def page(self, data: Any, records: list[dict[str, Any]], params: Mapping[str, Any]) -> Page:
        info = data.get(self.spec.cursor_info) if isinstance(data, dict) else None
        if info is None and isinstance(data, dict) and isinstance(data.get("page_info"), dict):
            page = PageNumberPaginator(self.spec, self.media).page(data, records, params)
            size = data["page_info"].get("page_size")
            if page.next_params is not None and _is_int(size):
                page.next_params[PAGE_SIZE_PARAM] = size
            page.drop = tuple({self.spec.page_size_param, "cursor"} - {PAGE_SIZE_PARAM})
            return page
        info = info or {}
        has_more, cursor = info.get("has_more"), info.get("cursor")
        if not (has_more is None or _is_int(has_more)) or not (cursor is None or _is_int(cursor)):
            # bool("false") is True: a mistyped flag must not be read as "more pages"
            raise e.BadResponse(
                self.media, "malformed", f"{self.spec.cursor_info} is mistyped", endpoint=self.spec.name
            )
        more = bool(has_more) and cursor is not None
        return Page(records, {"cursor": cursor} if more else None)


_BY_MODE: dict[Paging, type[SinglePage | PageNumberPaginator | CursorPaginator]] = {
    Paging.NONE: SinglePage,
    Paging.PAGE: PageNumberPaginator,
    Paging.CURSOR: CursorPaginator,
}


def paginator(spec: EndpointSpec, media: str) -> Paginator:
    """The endpoint's declared paging strategy."""
    return _BY_MODE[spec.paging](spec, media)


def read_page(spec: EndpointSpec, data: Any, params: Mapping[str, Any], media: str) -> Page:
    """Records of one answer's `data` (bare id lists become `{"id": ...}`) and the next call's parameters."""
    if spec.records:
        records = data.get(spec.records) if isinstance(data, dict) else None
    else:
        records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise e.BadResponse(
            media, "malformed", f"no record list at data.{spec.records or ''}", endpoint=spec.name
        )
    if not all(isinstance(r, dict) for r in records):
        records = [r if isinstance(r, dict) else {"id": r} for r in records]
    return paginator(spec, media).page(data, records, params)


class EndlessPaging(Exception):
    """A source whose pages never end (a cursor seen before, or MAX_PAGES pages)."""


@dataclass
class PageWalk:
    """One source's walk over its pages: the current call's parameters, and the records so far."""

    params: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    _cursors: set[Any] = field(default_factory=set)

    def advance(self, page: Page) -> bool:
        """Take `page`; True when another page is to be fetched (with the updated `params`).

        Raises EndlessPaging when the walk never ends."""
        self.pages += 1
        self.records.extend(page.records)
        if page.next_params is None:
            return False
        cursor = page.next_params.get("cursor")
        if self.pages >= MAX_PAGES or (cursor is not None and cursor in self._cursors):
            raise EndlessPaging(f"paging never ended after {self.pages} pages")
        self._cursors.add(cursor)
        for name in page.drop:
            self.params.pop(name, None)
        self.params |= page.next_params
        return True


def _is_int(value: Any) -> bool:
    """An int, booleans included (`has_more` is 0/1 in some answers, true/false in others), never a string."""
    return isinstance(value, int)
