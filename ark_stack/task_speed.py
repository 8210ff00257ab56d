"""Tencent's async report tasks at the speed of a local machine, for the demo and `make prod-local`.

The vendor allows one task per agency every 5 minutes (developers.e.qq.com/docs/insights/
ad_insights/async_reports), so an agency's six gdt reports take 25 minutes in production. On
loopback the simulator is told to allow one every `COOLDOWN_S` and to ready a task in `READY_S`,
and the platform to pace and poll to match (`ARK_ASYNC_TASK_COOLDOWN_S`, `ARK_ASYNC_TASK_POLL_S`);
production sets neither and keeps the vendor's pace.
"""

from __future__ import annotations

COOLDOWN_S = 1.0
PENDING_S, PROCESSING_S = 0.5, 1.0
POLL_S = 0.5
# the simulator's [media.<m>.async_reports] for the Tencent media
SIM_TASKS = {
    media: {"async_reports": {"pending_s": PENDING_S, "processing_s": PROCESSING_S, "cooldown_s": COOLDOWN_S}}
    for media in ("gdt", "wx")
}
# the platform's pacing, for every process that runs steps
TASK_ENV = {"ARK_ASYNC_TASK_COOLDOWN_S": str(COOLDOWN_S), "ARK_ASYNC_TASK_POLL_S": str(POLL_S)}
