"""What every bench client shares: its command line and the result file the harness reads.

Standard library only, so a client's peak RSS is its own HTTP stack and bookkeeping, not ours.
The harness, not the client, measures the time-independent numbers (peak RSS, throttles served,
records lost); a client reports what it fetched, what it saw and how long the fetch took.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

# Body codes a client counts as "throttled" (what it saw; the harness cross-checks them with the
# simulator's counters): gdt's per-second and per-minute limits, jrtt's QPS limit.
THROTTLE_CODES = {"gdt": frozenset({11016, 11017}), "jrtt": frozenset({40100})}


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--media", choices=("gdt", "jrtt"), default="gdt")
    parser.add_argument("--base-url", required=True, help="the media's base URL, e.g. http://127.0.0.1:P/gdt")
    parser.add_argument("--tenant", required=True, help="tenant alias, e.g. TBENCH1")
    parser.add_argument("--date", required=True, help="the account lists' day, yyyymmdd")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")
    parser.add_argument("--out", type=Path, required=True, help="where to write the result JSON")
    parser.add_argument("--app-id", default="", help="ark only: the developer app id")
    parser.add_argument("--secret", default="", help="ark only: the developer app secret")
    parser.add_argument("--settings", default="{}", help="ark only: EngineSettings overrides as JSON")
    return parser.parse_args(argv)


class Tally:
    """Per-source outcomes of one client run: records per account, and every non-ok kind."""

    def __init__(self, client: str, media: str) -> None:
        self.client = client
        self.media = media
        self.records_by_account: dict[str, int] = {}
        self.kinds: Counter[str] = Counter()
        self.throttles_seen = 0
        self.requests = 0

    def response(self, account_id: str, content: object) -> None:
        """Count one parsed response body: records when code 0, else its code (a lost source)."""
        self.requests += 1
        code = content.get("code") if isinstance(content, dict) else None
        if code == 0:
            self.ok(account_id, count_records(self.media, content.get("data")))
            return
        if code in THROTTLE_CODES[self.media]:
            self.throttles_seen += 1
            self.kinds["throttled"] += 1
        else:
            self.kinds[f"code_{code}"] += 1

    def ok(self, account_id: str, records: int) -> None:
        self.kinds["ok"] += 1
        self.records_by_account[account_id] = self.records_by_account.get(account_id, 0) + records

    def error(self, exc: BaseException) -> None:
        """A source lost to an exception (timeout, reset, an HTML 5xx body that is not JSON...)."""
        self.kinds[f"error_{type(exc).__name__}"] += 1

    def write(self, path: Path, *, sources: list[str], seconds: float, **extra: object) -> None:
        result = {
            "client": self.client,
            "media": self.media,
            "sources": len(sources),
            "seconds": seconds,
            "records_ok": sum(self.records_by_account.values()),
            "sources_ok": self.kinds["ok"],
            "throttles_seen": self.throttles_seen,
            "requests": self.requests,
            "kinds": dict(self.kinds),
            "source_ids": sources,
            "records_by_account": self.records_by_account,
            **extra,
        }
        path.write_text(json.dumps(result), encoding="utf-8")


def count_records(media: str, data: object) -> int:
    """Records in a funds call's `data`: gdt `data.list`; jrtt `data` is the one fund object."""
    if media == "gdt":
        return len(data["list"])
    return 1 if isinstance(data, dict) else len(data)
