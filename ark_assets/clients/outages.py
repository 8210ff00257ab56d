"""Riding out a backing service's restart: retry while it is unreachable, for a bounded time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_before_delay, wait_exponential

from ark_assets.clients.errors import ServiceUnavailable

_T = TypeVar("_T")


def ride_out(
    call: Callable[[], _T],
    *,
    window_s: float,
    first_wait_s: float,
    max_wait_s: float,
    before_retry: Callable[[BaseException, float], None] | None = None,
) -> _T:
    """`call()`, retried with doubling waits (`first_wait_s` up to `max_wait_s`) while it raises
    `ServiceUnavailable`, for at most `window_s`; then the last error is raised.

    `before_retry(error, wait_s)` runs before each wait (to log it, or drop pooled connections
    that died with the server)."""

    def before_sleep(state: RetryCallState) -> None:
        if before_retry is not None and state.outcome is not None:
            before_retry(state.outcome.exception(), state.upcoming_sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(ServiceUnavailable),
        stop=stop_before_delay(window_s),
        wait=wait_exponential(multiplier=first_wait_s, min=first_wait_s, max=max_wait_s),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(call)
