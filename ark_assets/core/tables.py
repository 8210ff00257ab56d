"""HBase table names, by the seed's rule: `tenant_{media}_{dataset}`.

The dataset part carries the seed's version suffixes (`advertiser_fund_get_v2`,
`daily_report_ad_v3`); each media module declares its datasets, and this is the one place the
rule is applied.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[a-z0-9]+$")
_DATASET = re.compile(r"^[a-z0-9_.]+$")


def table_name(media: str, dataset: str) -> str:
    """`tenant_{media}_{dataset}`, e.g. table_name("funds_media", "funds_get_v2")."""
    if not isinstance(media, str) or not _NAME.match(media):
        raise ValueError(f"media name {media!r} must be lower-case letters and digits")
    if not _DATASET.match(dataset):
        raise ValueError(f"dataset {dataset!r} must be lower-case letters, digits, '_' or '.'")
    return f"tenant_{media}_{dataset}"
