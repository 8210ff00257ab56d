"""HBase table names, by the seed's rule: `tenant_{media}_{dataset}`.

The dataset part carries the seed's version suffixes (`advertiser_fund_get_v2`,
`daily_report_ad_v3`); each media module declares its datasets, and this is the one place the
rule is applied.
"""

from __future__ import annotations

import re

from ark_assets.media import Media

_DATASET = re.compile(r"^[a-z0-9_.]+$")


def table_name(media: Media | str, dataset: str) -> str:
    """`tenant_{media}_{dataset}`, e.g. table_name("jrtt", "advertiser_fund_get_v2")."""
    if not _DATASET.match(dataset):
        raise ValueError(f"dataset {dataset!r} must be lower-case letters, digits, '_' or '.'")
    return f"tenant_{Media.parse(media)}_{dataset}"
