"""Paging strategies and the one summary of a fetch (`fetch/paging.py`, `fetch/summary.py`), no service.

The contract: a page-number walk goes on while `page < total_page` and fails a source whose list
is capped below its own total; a cursor walk goes on while `has_more`, switches to page mode when
a cursor call is answered in page mode, and never reads a mistyped flag as "more pages"; a walk
that sees a cursor twice is refused. The summary counts one outcome per source, and a success
whose records could not be stored becomes a failure without being counted twice.
"""

from __future__ import annotations

import pytest

from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.paging import EndlessPaging, PageWalk, paginator, read_page
from ark_assets.fetch.summary import FetchSummary
from ark_assets.media import errors as e
from ark_assets.media.api import EndpointSpec, Paging

PAGED = EndpointSpec(name="list/get", path="/list/get", paging=Paging.PAGE, page_size=100)
CURSOR = EndpointSpec(name="select", path="/select", paging=Paging.CURSOR, page_size=100, records="list")
SINGLE = EndpointSpec(name="funds/get", path="/funds/get", records="")


def _page_data(page: int, total: int, n: int = 2) -> dict:
    return {"list": [{"id": i} for i in range(n)], "page_info": {"page": page, "total_page": total}}


@pytest.mark.parametrize(
    ("spec", "first"),
    [
        (PAGED, {"page": 1, "page_size": 100}),  # page mode asks for page 1 at the largest size
        (CURSOR, {"page_size": 100}),  # cursor mode: no cursor on the first call
        (SINGLE, {}),  # one call answers everything
    ],
)
def test_each_strategy_starts_with_its_own_parameters(spec: EndpointSpec, first: dict) -> None:
    assert paginator(spec, "m").first() == first


def test_a_page_number_walk_goes_on_until_the_last_page() -> None:
    walk = PageWalk({"page": 1})
    assert walk.advance(read_page(PAGED, _page_data(1, 3), walk.params, "m"))
    assert walk.params == {"page": 2}
    assert walk.advance(read_page(PAGED, _page_data(2, 3), walk.params, "m"))
    assert not walk.advance(read_page(PAGED, _page_data(3, 3), walk.params, "m"))
    assert walk.pages == 3 and len(walk.records) == 6


@pytest.mark.parametrize(
    ("data", "error"),
    [
        # a listing capped below its own total (Tencent's normal mode at 1000 rows)
        ({"list": [], "page_info": {"page": 2, "total_page": 5, "total_number": 4800}}, e.IncompletePages),
        # "3" would end the walk at page 1 without a word
        ({"list": [{"id": 1}], "page_info": {"page": 1, "total_page": "3"}}, e.BadResponse),
        # no record list where the endpoint declares one
        ({"items": []}, e.BadResponse),
    ],
)
def test_a_bad_page_fails_the_source(data: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        read_page(PAGED, data, {"page": 2}, "m")


def test_a_cursor_walk_follows_has_more_and_switches_to_page_mode_when_answered_so() -> None:
    walk = PageWalk({"page_size": 100})
    more = {"list": [{"id": 1}], "cursor_page_info": {"has_more": 1, "cursor": 7}}
    assert walk.advance(read_page(CURSOR, more, walk.params, "m"))
    assert walk.params == {"page_size": 100, "cursor": 7}
    # the next answer comes in page mode: walked on by page, the cursor parameter dropped
    paged = {"list": [{"id": 2}], "page_info": {"page": 1, "total_page": 2, "page_size": 50}}
    assert walk.advance(read_page(CURSOR, paged, walk.params, "m"))
    assert walk.params == {"page_size": 50, "page": 2}
    assert not walk.advance(read_page(CURSOR, {"list": [], "cursor_page_info": {"has_more": 0}}, {}, "m"))


def test_a_mistyped_has_more_is_not_read_as_more_pages() -> None:
    with pytest.raises(e.BadResponse, match="mistyped"):
        read_page(CURSOR, {"list": [], "cursor_page_info": {"has_more": "false", "cursor": 3}}, {}, "m")


def test_a_cursor_seen_twice_ends_the_walk_as_endless() -> None:
    walk = PageWalk({})
    looping = {"list": [{"id": 1}], "cursor_page_info": {"has_more": True, "cursor": 9}}
    assert walk.advance(read_page(CURSOR, looping, walk.params, "m"))
    with pytest.raises(EndlessPaging, match="never ended after 2 pages"):
        walk.advance(read_page(CURSOR, looping, walk.params, "m"))


def test_bare_ids_become_records() -> None:
    page = read_page(SINGLE, [11, 12], {}, "m")
    assert page.records == [{"id": 11}, {"id": 12}] and page.next_params is None


def _outcome(target: str, records: int | None, attempts: int = 1) -> Outcome:
    failure = (
        None if records is not None else Failure(media="m", kind="Throttled", code=1, message="", attempts=3)
    )
    rows = [{"n": i} for i in range(records)] if records is not None else None
    pages = 1 if records is not None else 0  # a failure on the first page fetched none
    return Outcome(
        Source("7", target), records=rows, failure=failure, attempts=attempts, throttles=0, pages=pages
    )


def test_the_summary_counts_one_outcome_per_source_and_a_spoiled_success_once() -> None:
    summary = FetchSummary()
    ok = _outcome("100", 3, attempts=2)  # one retry
    summary.count(ok)
    summary.count(_outcome("200", None, attempts=3))  # two retries, then it gave up
    summary.spoiled(ok, Failure(media="m", kind="BadRecord", code="id", message="null id", attempts=2))
    assert (summary.requested, summary.succeeded, summary.failed, summary.records) == (2, 0, 2, 0)
    assert summary.accounted and summary.retries == 1 + 2  # 100's retry, 200's two retries
    assert summary.failed_targets == {"100", "200"} and summary.failed_by_kind == {
        "Throttled": 1,
        "BadRecord": 1,
    }
    listing = FetchSummary(requested=1, succeeded=1, records=5, rows=5)
    assert listing.add(summary).requested == 3 and listing.failed_targets == {"100", "200"}
