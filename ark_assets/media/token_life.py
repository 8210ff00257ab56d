"""How long a media's tokens live: what the token-health sensor warns from (`automation/token_health.py`).

A refresh token that dies stops every account of its agent until someone re-authorises the agent
upstream; the media document how long one lives, and say it again in each refresh answer. The
refresher records those answers (`clients/token_health.py`); a media module declares the validity
periods and the answer's fields, with the source.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class TokenLife:
    """A media's token validity.

    Args:
        access_s: an access token's life in seconds, when the answer does not say.
        refresh_s: a refresh token's life in seconds, when the answer does not say.
        source: where the periods are documented (a URL or an SDK repository path).
        access_field / refresh_field: the refresh answer's fields holding the lives in seconds.
    """

    access_s: int
    refresh_s: int
    source: str
    access_field: str = "access_token_expires_in"
    refresh_field: str = "refresh_token_expires_in"

    def __post_init__(self) -> None:
        if self.access_s <= 0 or self.refresh_s <= 0 or not self.source.strip():
            raise ValueError("token lives must be positive and name their source")
