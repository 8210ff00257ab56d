"""Contract: the media API version is configuration, declared by each media, and each version's
calls are the ones the media answer today.

- gdt and wx declare v3.0 (the default: what the media serve today), the notes' v1.1 and v1.3;
  jrtt declares its one version, v2 (with v3.0's custom report beside the v2 endpoints).
- `ARK_<MEDIA>_API_VERSION` picks a media's version, `ARK_API_VERSIONS=current|notes|default`
  every media's at once (a media's own variable wins); a version a media lacks fails when the
  resource is built, naming the variable and the versions the media has.
- Every asset's endpoint (or role) resolves in every version that has the asset; the role's
  endpoint is the real one, whose name the quotas and the rate governor use; v3.0 has no campaign,
  ad or promoted-object level and v1.x no dynamic creatives, so the asset sets differ.
- v3.0 report calls send `fields` and `group_by`; v1.x report calls send the upgrade flag and the
  new metric system's names (without the flag the old system answers nothing after 2024-04-30);
  wx spells its v1.x levels `_WECHAT` and its v3.0 levels like gdt's.
"""

from __future__ import annotations

import pytest

from ark_assets.media.registry import all_media
from ark_assets.media.registry import media as media_named
from ark_assets.resources.media_api import media_api_resource_from_env

VARIABLES = ("ARK_API_VERSIONS", "ARK_GDT_API_VERSION", "ARK_WX_API_VERSION", "ARK_JRTT_API_VERSION")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_each_media_declares_its_versions() -> None:
    declared = {
        m.name: (list(m.versions), m.api.version, m.api_for("current").version, m.api_for("notes").version)
        for m in all_media()
    }
    assert declared == {
        "gdt": (["v3.0", "v1.1", "v1.3"], "v3.0", "v3.0", "v1.1"),
        "jrtt": (["v2"], "v2", "v2", "v2"),
        "wx": (["v3.0", "v1.1", "v1.3"], "v3.0", "v3.0", "v1.1"),
    }


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, {"gdt": "v3.0", "jrtt": "v2", "wx": "v3.0"}),  # nothing set: every media's default
        ({"ARK_API_VERSIONS": "current"}, {"gdt": "v3.0", "jrtt": "v2", "wx": "v3.0"}),  # served today
        ({"ARK_API_VERSIONS": "notes"}, {"gdt": "v1.1", "jrtt": "v2", "wx": "v1.1"}),  # the notes' jobs
        ({"ARK_API_VERSIONS": "default"}, {"gdt": "v3.0", "jrtt": "v2", "wx": "v3.0"}),
        ({"ARK_GDT_API_VERSION": "v1.3"}, {"gdt": "v1.3", "jrtt": "v2", "wx": "v3.0"}),  # one media only
        # a media's own variable wins over the switch for all
        (
            {"ARK_API_VERSIONS": "notes", "ARK_WX_API_VERSION": "v1.3"},
            {"gdt": "v1.1", "jrtt": "v2", "wx": "v1.3"},
        ),
        ({"ARK_WX_API_VERSION": "notes"}, {"gdt": "v3.0", "jrtt": "v2", "wx": "v1.1"}),
    ],
)
def test_the_version_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: dict[str, str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    resource = media_api_resource_from_env()
    assert {m: resource.api_spec(m).version for m in expected} == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # a version the media does not have: the variable and the media's versions are named
        (
            "ARK_GDT_API_VERSION",
            "v2.0",
            "ARK_GDT_API_VERSION='v2.0': gdt speaks no API version 'v2.0': expected one of v3.0, v1.1, v1.3",
        ),
        # a concrete version for every media fails at the first media that lacks it
        (
            "ARK_API_VERSIONS",
            "v1.3",
            "ARK_API_VERSIONS='v1.3': jrtt speaks no API version 'v1.3': expected one of v2",
        ),
    ],
)
def test_a_version_a_media_lacks_fails_when_the_resource_is_built(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        media_api_resource_from_env()


@pytest.mark.parametrize("media", [m.name for m in all_media()])
def test_every_asset_endpoint_resolves_in_every_version_that_has_it(media: str) -> None:
    declared = media_named(media)
    for spec in declared.versions.values():
        assets = declared.assets_for(spec.version)
        names = [
            *(a.endpoint for a in assets.account_lists),
            *(a.details_endpoint for a in assets.account_lists if a.details_endpoint),
            *(d.endpoint for d in assets.datasets),
        ]
        for name in names:
            endpoint = spec.endpoint(name)
            assert endpoint.path.startswith(f"/{spec.version}/") or spec.version == "v2", (
                media,
                spec.version,
                name,
            )


@pytest.mark.parametrize(
    ("media", "version", "has", "lacks"),
    [
        (
            "gdt",
            "v3.0",
            {"daily_report_dynamic_creative", "hourly_report_dynamic_creative"},
            {"daily_report_campaign"},
        ),
        (
            "gdt",
            "v1.1",
            {"daily_report_campaign", "daily_report_ad", "hourly_report_ad"},
            {"daily_report_dynamic_creative"},
        ),
        ("wx", "v3.0", {"daily_report_adgroup", "daily_report_dynamic_creative"}, {"daily_report_ad"}),
        ("wx", "v1.3", {"daily_report_campaign", "daily_report_ad"}, {"daily_report_dynamic_creative"}),
        ("jrtt", "v2", {"report_campaign", "report_ad", "report_project", "report_promotion"}, set()),
    ],
)
def test_each_version_has_the_levels_it_serves(
    media: str, version: str, has: set[str], lacks: set[str]
) -> None:
    names = {d.name for d in media_named(media).assets_for(version).datasets}
    assert has <= names and not lacks & names


@pytest.mark.parametrize("version", ["v1.1", "v1.3", "v3.0"])
def test_the_wx_listing_role_is_advertiser_get_in_every_version(version: str) -> None:
    """No retired `wechat_*` endpoint on any path: `wechat_advertiser/get` left every SDK in 2022."""
    spec = media_named("wx").api_for(version).endpoint("accounts")
    assert (spec.name, spec.path) == ("advertiser/get", f"/{version}/advertiser/get")  # the quota key
    assert not any(name.startswith("wechat_") for name in media_named("wx").api_for(version).endpoints)


def _sent(media: str, version: str, endpoint: str, level: str | None) -> dict:
    spec = media_named(media).api_for(version).endpoint(endpoint)
    params = {"level": level} if level else {}
    return {**spec.fixed_params, **params, **(spec.call_params(params) if spec.call_params else {})}


@pytest.mark.parametrize(
    ("media", "endpoint", "level", "wire_level", "group_by", "fields"),
    [
        (
            "gdt",
            "daily_reports/get",
            "ADVERTISER",
            "REPORT_LEVEL_ADVERTISER",
            ["date"],
            ["date", "account_id", "cost"],
        ),
        (
            "gdt",
            "daily_reports/get",
            "DYNAMIC_CREATIVE",
            "REPORT_LEVEL_DYNAMIC_CREATIVE",
            ["date", "dynamic_creative_id"],
            ["adgroup_id", "dynamic_creative_id", "dynamic_creative_name", "view_count", "valid_click_count"],
        ),
        (
            "gdt",
            "hourly_reports/get",
            "DYNAMIC_CREATIVE",
            "REPORT_LEVEL_DYNAMIC_CREATIVE",
            ["hour", "dynamic_creative_id"],
            ["hour", "account_id", "dynamic_creative_id"],
        ),
        (
            "wx",
            "daily_reports/get",
            "ADGROUP",
            "REPORT_LEVEL_ADGROUP",
            ["date", "adgroup_id"],
            ["adgroup_id"],
        ),
    ],
)
def test_v30_reports_send_fields_and_group_by(
    media: str, endpoint: str, level: str, wire_level: str, group_by: list[str], fields: list[str]
) -> None:
    sent = _sent(media, "v3.0", endpoint, level)
    assert sent["level"] == wire_level and sent["group_by"] == group_by
    assert set(fields) <= set(sent["fields"])
    assert not {"impression", "click", "conversion", "campaign_id", "ad_id"} & set(sent["fields"])


@pytest.mark.parametrize(
    ("media", "version", "endpoint", "level", "wire_level", "fields"),
    [
        (
            "gdt",
            "v1.3",
            "daily_reports/get",
            "CAMPAIGN",
            "REPORT_LEVEL_CAMPAIGN",
            ["account_id", "campaign_name"],
        ),
        ("gdt", "v1.1", "daily_reports/get", "AD", "REPORT_LEVEL_AD", ["date", "campaign_id", "ad_id"]),
        ("gdt", "v1.1", "hourly_reports/get", "AD", "REPORT_LEVEL_AD", ["hour", "ad_id"]),
        ("wx", "v1.1", "daily_reports/get", "AD", "REPORT_LEVEL_AD_WECHAT", ["date", "ad_id"]),
        ("wx", "v1.3", "daily_reports/get", "ADVERTISER", "REPORT_LEVEL_ADVERTISER_WECHAT", ["account_id"]),
    ],
)
def test_v1x_reports_send_the_upgrade_flag_and_the_new_metric_names(
    media: str, version: str, endpoint: str, level: str, wire_level: str, fields: list[str]
) -> None:
    sent = _sent(media, version, endpoint, level)
    assert sent["level"] == wire_level and sent["adq_accounts_upgrade_enabled"] is True
    assert {*fields, "view_count", "valid_click_count", "conversions_count"} <= set(sent["fields"])
    assert not {"impression", "click", "conversion"} & set(sent["fields"])  # the old system's names
    if version == "v1.1":  # v1.1's rows carry no names and no account_id (TPHP's 2020 model)
        assert not {f for f in sent["fields"] if f.endswith("_name")} and "account_id" not in sent["fields"]


@pytest.mark.parametrize(
    ("media", "version", "endpoint", "fields"),
    [
        (
            "gdt",
            "v3.0",
            "funds/get",
            ["fund_type", "balance", "bill_deposit_amount", "realtime_cost", "effect_funds"],
        ),
        ("gdt", "v1.3", "funds/get", ["fund_type", "balance", "fund_status", "realtime_cost"]),
        ("gdt", "v3.0", "advertiser/get", ["account_id", "corporation_name", "agency_account_id"]),
        ("wx", "v3.0", "accounts", ["account_id", "corporation_name", "system_status", "agency_account_id"]),
    ],
)
def test_listings_and_funds_name_their_fields(
    media: str, version: str, endpoint: str, fields: list[str]
) -> None:
    sent = _sent(media, version, endpoint, None)
    assert set(fields) <= set(sent["fields"])
    notes = media_named(media).api_for("v1.1").endpoint(endpoint)
    assert "fields" not in notes.fixed_params  # the notes' funds and listing rows keep their shape
