"""What a Tencent Marketing API report call names, how its files are typed, and how far back it
serves: shared by gdt and wx (wx's reports are Tencent's, through the same API), kept apart from
`gdt.py` so that module stays about endpoints and assets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ark_assets.media.retention import Retention

V11, V13, V30 = "v1.1", "v1.3", "v3.0"
LEGACY = (V11, V13)  # the old hierarchy's versions (campaign -> adgroup -> ad)
UPGRADE_FLAG = "adq_accounts_upgrade_enabled"  # v1.x: the new metric system (news/info/20240416)


# the new metric system's names, the same in v1.3's and v3.0's report structs
REPORT_METRICS = (
    "view_count",
    "valid_click_count",
    "cost",
    "ctr",
    "cpc",
    "thousand_display_price",
    "conversions_count",
    "conversions_cost",
    "download_count",
    "activated_count",
)
# the ids and names a level's rows carry, per version (v1.1's rows have no names and no account_id)
_IDS_V1 = {
    "CAMPAIGN": ("campaign_id", "campaign_name"),
    "ADGROUP": ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name"),
    "AD": ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_id", "ad_name"),
    "PROMOTED_OBJECT": ("promoted_object_type", "promoted_object_id"),
}
_IDS_V3 = {
    "ADGROUP": ("adgroup_id", "adgroup_name"),
    "DYNAMIC_CREATIVE": ("adgroup_id", "adgroup_name", "dynamic_creative_id", "dynamic_creative_name"),
}
# v3.0's required group_by: one row per day (hour) and entity of the level, as v1.x's default
_GROUP_BY_V3 = {
    "ADVERTISER": (),
    "ADGROUP": ("adgroup_id",),
    "DYNAMIC_CREATIVE": ("dynamic_creative_id",),
}


def _ids(level: str, version: str) -> tuple[str, ...]:
    if version == V30:
        return _IDS_V3.get(level, ())
    ids = _IDS_V1.get(level, ())
    return tuple(i for i in ids if not i.endswith("_name")) if version == V11 else ids


def report_params(
    kind: str, version: str, level_suffix: str = ""
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A report call's parameters from a dataset's (`level` = the base level, e.g. `ADGROUP`): the
    level in the version's spelling, the level's `fields`, v3.0's `group_by`, v1.x's upgrade flag."""
    time_key = "date" if kind == "daily" else "hour"

    def derive(params: Mapping[str, Any]) -> dict[str, Any]:
        level = str(params["level"])
        ids = _ids(level, version)
        account = () if version == V11 else ("account_id",)
        derived: dict[str, Any] = {
            "level": f"REPORT_LEVEL_{level}{level_suffix if version in LEGACY else ''}",
            "fields": [time_key, *account, *ids, *REPORT_METRICS],
        }
        if version == V30:
            derived["group_by"] = [time_key, *_GROUP_BY_V3[level]]
        else:
            derived[UPGRADE_FLAG] = True
        return derived

    return derive


# the type of each report field's values, as the per-account answer types them (the v3.0 structs):
# how the asynchronous path's files are read
FIELD_TYPES: dict[str, type] = {
    "hour": int,
    "account_id": int,
    "adgroup_id": int,
    "dynamic_creative_id": int,
    **dict.fromkeys(REPORT_METRICS, int),
    "ctr": float,
}

# How far back each report serves data: daily 365 days (the 365th included) in every version; hourly
# 90 days in v1.x, 365 in v3.0. A partition day before is refused before any call.
DAILY_RETENTION = Retention(
    days=365,
    source="https://developers.e.qq.com/docs/insights/ad_insights/daily (支持查询365天内(含365天)的每日数据)",
)
HOURLY_RETENTION = {
    V11: Retention(
        days=90,
        source="https://developers.e.qq.com/docs/api/insights/ad_insights/hourly_reports_get "
        "(最多支持查询 90 天内的数据)",
    ),
    V30: Retention(
        days=365,
        source="https://developers.e.qq.com/v3.0/docs/api/hourly_reports/get "
        "(最早支持查询 1 年内(365 天)的数据)",
    ),
}
HOURLY_RETENTION[V13] = HOURLY_RETENTION[V11]  # v1.1 requests are served as v1.3 (news/info/20200529)
