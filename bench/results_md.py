"""What every benchmark shares when it writes up: its own section of RESULTS.md, the machine's CPU."""

from __future__ import annotations

import platform
import re
from pathlib import Path

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(
    start: str, end: str, section: str, *, first: bool = False, path: Path = RESULTS_MD
) -> None:
    """Replace the section between the `start` and `end` markers of `path` (RESULTS.md), leaving the rest.

    A section not there yet is appended (or put first, `first=True`)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    elif first:
        text = section + ("\n" + text if text.strip() else "")
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    path.write_text(text, encoding="utf-8")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
