"""Typed media API errors: one flat hierarchy, each built from a media's body code.

The media answer almost every error with HTTP 200 and a code in the body, and the right
reaction depends on the code, not the status: wait and retry a throttle, stop the media for
the day on a daily quota, refresh a token once, give up at once on a permission error. Each
media module translates its codes into these classes (`translate_code`), and the engine
decides what to do from the class alone.
"""

from __future__ import annotations


class MediaApiError(Exception):
    """A media API call that did not return data; `code` is the media's body code (or HTTP/transport)."""

    retryable = False

    def __init__(
        self,
        media: str,
        code: int | str,
        message: str,
        *,
        endpoint: str = "",
        trace_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.media = media
        self.code = code
        self.message = message
        self.endpoint = endpoint
        self.trace_id = trace_id
        self.http_status = http_status
        super().__init__(f"{media} {endpoint or 'request'} failed with code {code}: {message}")


class UnknownCode(MediaApiError):
    """A body code the media's code table does not hold: not retried, reported with the code."""

    def __init__(self, media: str, code: int | str, message: str, **kwargs: object) -> None:
        super().__init__(
            media,
            code,
            f"code {code} is not in {media}'s code table (expected 0 or a documented code): {message}",
            **kwargs,  # type: ignore[arg-type]
        )


class Throttled(MediaApiError):
    """A frequency limit (per second / minute / account): wait, then retry."""

    retryable = True


class DailyQuotaExhausted(MediaApiError):
    """The app's daily quota for this endpoint is spent: stop the media for the day, alert."""


class TokenExpired(MediaApiError):
    """The access token expired: refresh it (once, under a lock) and retry."""


class TokenInvalid(MediaApiError):
    """The access token is unknown, malformed or missing: refresh once; if that fails, give up."""


class RefreshFailed(MediaApiError):
    """The refresh token was refused (expired or invalid): the agent needs a new authorisation."""


class PermissionDenied(MediaApiError):
    """The token may not read this account or endpoint: retrying cannot help."""


class BadRequest(MediaApiError):
    """The media rejected our parameters: a bug or bad input, not a transient state."""


class TransientServerError(MediaApiError):
    """System busy, maintenance or an HTTP 5xx: retry with backoff."""

    retryable = True


class IncompletePages(MediaApiError):
    """The pages ended before their own `page_info` said they would (an empty page before the
    last): the rest of the list cannot be had this way, so the source fails naming what is missing
    instead of ending quietly short. Retrying gives the same pages."""


class BadResponse(MediaApiError):
    """The body was not the JSON envelope the contract promises (truncated, wrong types)."""

    retryable = True


class TransportError(MediaApiError):
    """No usable HTTP response: timeout, connection reset or refused."""

    retryable = True
