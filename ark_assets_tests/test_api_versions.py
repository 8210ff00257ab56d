"""Contract: the media API version is configuration, declared by each media, and nothing else moves.

- gdt and wx declare the notes' v1.1 (the default) and v1.3 (what the SDKs target, their
  `current_version`); jrtt declares its one version, v2.
- `ARK_<MEDIA>_API_VERSION` picks a media's version, `ARK_API_VERSIONS=current|default` every
  media's at once (a media's own variable wins); a version a media lacks fails when the resource
  is built, naming the variable and the versions the media has.
- Every asset's endpoint (or role) resolves in every version; the role's endpoint is the real one,
  whose name the quotas and the rate governor use.
- v1.3 calls name their record `fields` in v1.3 names; v1.1 calls send none (stored v1.1 rows keep
  their shape).
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
    declared = {m.name: (list(m.versions), m.api.version, m.api_for("current").version) for m in all_media()}
    assert declared == {
        "gdt": (["v1.1", "v1.3"], "v1.1", "v1.3"),
        "jrtt": (["v2"], "v2", "v2"),
        "wx": (["v1.1", "v1.3"], "v1.1", "v1.3"),
    }


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, {"gdt": "v1.1", "jrtt": "v2", "wx": "v1.1"}),  # nothing set: every media's default
        (
            {"ARK_API_VERSIONS": "current"},
            {"gdt": "v1.3", "jrtt": "v2", "wx": "v1.3"},
        ),  # what the SDKs target
        ({"ARK_API_VERSIONS": "default"}, {"gdt": "v1.1", "jrtt": "v2", "wx": "v1.1"}),
        ({"ARK_GDT_API_VERSION": "v1.3"}, {"gdt": "v1.3", "jrtt": "v2", "wx": "v1.1"}),  # one media only
        # a media's own variable wins over the switch for all
        (
            {"ARK_API_VERSIONS": "current", "ARK_WX_API_VERSION": "v1.1"},
            {"gdt": "v1.3", "jrtt": "v2", "wx": "v1.1"},
        ),
        ({"ARK_WX_API_VERSION": "current"}, {"gdt": "v1.1", "jrtt": "v2", "wx": "v1.3"}),
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
            "v3.0",
            "ARK_GDT_API_VERSION='v3.0': gdt speaks no API version 'v3.0': expected one of v1.1, v1.3",
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
def test_every_asset_endpoint_resolves_in_every_version(media: str) -> None:
    declared = media_named(media)
    names = [
        *(a.endpoint for a in declared.assets.account_lists),
        *(a.details_endpoint for a in declared.assets.account_lists if a.details_endpoint),
        *(d.endpoint for d in declared.assets.datasets),
    ]
    for spec in declared.versions.values():
        for name in names:
            endpoint = spec.endpoint(name)
            assert endpoint.path.startswith(f"/{spec.version}/") or spec.version == "v2", (
                media,
                spec.version,
                name,
            )


@pytest.mark.parametrize(
    ("version", "endpoint", "path"),
    [
        ("v1.1", "wechat_advertiser/get", "/v1.1/wechat_advertiser/get"),  # the notes' listing
        ("v1.3", "advertiser/get", "/v1.3/advertiser/get"),  # what the current API offers an agency
    ],
)
def test_the_wx_listing_role_is_a_real_endpoint_per_version(version: str, endpoint: str, path: str) -> None:
    spec = media_named("wx").api_for(version).endpoint("accounts")
    assert (spec.name, spec.path) == (endpoint, path)  # the name is the quota and governor key


@pytest.mark.parametrize(
    ("media", "endpoint", "level", "fields"),
    [
        ("gdt", "funds/get", None, ["fund_type", "balance", "fund_status", "realtime_cost"]),
        (
            "gdt",
            "daily_reports/get",
            "REPORT_LEVEL_CAMPAIGN",
            ["date", "account_id", "campaign_id", "campaign_name", "view_count", "valid_click_count"],
        ),
        ("gdt", "hourly_reports/get", "REPORT_LEVEL_AD", ["date", "hour", "account_id", "ad_id", "ad_name"]),
        (
            "wx",
            "daily_reports/get",
            "REPORT_LEVEL_AD_WECHAT",
            ["date", "account_id", "ad_id", "conversions_count"],
        ),
        ("wx", "accounts", None, ["account_id", "corporation_name", "system_status", "agency_account_id"]),
    ],
)
def test_v13_calls_name_their_fields(media: str, endpoint: str, level: str | None, fields: list[str]) -> None:
    current = media_named(media).api_for("v1.3").endpoint(endpoint)
    sent = {**current.fixed_params, **(current.call_params({"level": level}) if current.call_params else {})}
    assert set(fields) <= set(sent["fields"])
    assert not {"impression", "click", "conversion"} & set(sent["fields"])  # no v1.1 names
    notes = media_named(media).api_for("v1.1").endpoint(endpoint)
    assert "fields" not in notes.fixed_params and notes.call_params is None
