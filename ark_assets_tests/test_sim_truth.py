"""Contract: `ark-sim truth` is the simulator's own, so a wrong row shape in the platform fails it.

The truth counts the rows of `tenant_gdt_funds_get_v2` from the simulator's table rule (one row
per account and fund record) and never reads the platform's declarations. The platform stores
that table by its own declaration (`gdt.FUNDS`, one row per fund record kind). One asset of a
`small` tenant: declared as shipped, the stored rows equal the truth; declared as one row per
account, they do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

import ark_assets_tests.platform as test_platform
from ark_assets.assets.build import media_assets
from ark_assets.core.tables import table_name
from ark_assets.media import gdt
from ark_assets.media.declare import RowShape
from ark_assets.media.registry import all_media
from ark_assets_tests.platform import Platform, api_versions, running_platform
from ark_sim.truth import truth

pytestmark = [pytest.mark.stack, pytest.mark.api_paths]  # the real services; run in both API versions

DATASET = "funds_get_v2"


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:  # seeded, nothing materialized yet
        yield platform


def _stored_and_truth(platform: Platform) -> tuple[int, int]:
    """Materialize gdt funds into an empty table; its rows and the truth's, then drop the table."""
    table = table_name("gdt", DATASET)
    try:
        platform.run(["gdt/funds"])
        stored = platform.rows("gdt", DATASET)
    finally:
        platform.hbase.delete_table(table)
    return stored, truth(platform.sim.world, platform.tenant, platform.day, api_versions())["tables"][table]


def test_funds_stored_as_declared_equal_the_truth(platform: Platform) -> None:
    stored, expected = _stored_and_truth(platform)
    accounts = len(platform.sim.world.accounts("gdt", platform.tenant))
    assert stored == expected > accounts  # some accounts hold more than one fund record


def test_one_row_per_account_instead_of_per_fund_record_differs_from_the_truth(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = replace(gdt.FUNDS, shape=RowShape.ONE_PER_ACCOUNT, kind_field=None)
    datasets = tuple(wrong if d is gdt.FUNDS else d for d in gdt.MEDIA.assets.datasets)
    wrong_gdt = replace(gdt.MEDIA, assets=replace(gdt.MEDIA.assets, datasets=datasets))
    assets = [a for m in all_media() for a in media_assets(wrong_gdt if m is gdt.MEDIA else m)]
    monkeypatch.setattr(test_platform, "ASSETS", assets)
    stored, expected = _stored_and_truth(platform)
    assert stored == len(platform.sim.world.accounts("gdt", platform.tenant))
    assert stored != expected
