"""Run config of a media's step: the seed's rules for re-running a slice of a partition.

`agents_list` holds exactly one agent (a historical limit the seed kept); `account_list` may
hold many; when both are given the account list wins; with neither, the whole partition runs.
A media's assets run in one step (op `<media>`), so the slice is given once for the step and
applies to every selected asset it fits; `assets` gives one asset a slice of its own:

    ops: {wx: {config: {agents_list: ["6310590"]}}}
    ops: {wx: {config: {assets: {funds: {account_list: ["2138350798", "28725899"]},
                                 daily_report_ad: {account_list: ["2138350798"]}}}}}

`failed_only` re-fetches exactly what failed in each selected asset's latest materialization of
the partition (`failures.py`); it is what the `rerun_failed` job sets:

    ops: {wx: {config: {failed_only: true}}}
"""

# No `from __future__ import annotations` here: Dagster reads these annotations as types at
# definition time, and the nested `dict[str, FetchConfig]` of MediaRunConfig cannot be a string.
from dagster import Config
from pydantic import Field, field_validator

from ark_assets.core.ids import DIGITS, INT64_MAX


class FetchConfig(Config):
    """Limit a run to one agent or to some accounts; the rest of the partition is left untouched."""

    agents_list: list[str] = Field(default_factory=list, description="exactly one agent id, or empty")
    account_list: list[str] = Field(default_factory=list, description="account ids; wins over agents_list")

    @field_validator("agents_list")
    @classmethod
    def _one_agent(cls, value: list[str]) -> list[str]:
        if len(value) > 1:
            raise ValueError(
                f"agents_list holds {len(value)} agents ({', '.join(value)}): it must hold exactly one "
                f"(the seed's rule); to fetch several agents' accounts, pass their accounts in account_list"
            )
        return _ids(value, "agents_list")

    @field_validator("account_list")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        return _ids(value, "account_list")


def _ids(values: list[str], name: str) -> list[str]:
    for value in values:
        if not isinstance(value, str) or not DIGITS.fullmatch(value):
            raise ValueError(f"{name} entry {value!r} is not an id: expected digits only, e.g. '1050262'")
        if not 0 < int(value) <= INT64_MAX:
            raise ValueError(
                f"{name} entry {value!r} is not an id: expected a positive int64 (1 … {INT64_MAX})"
            )
    return values


class MediaRunConfig(FetchConfig):
    """The slice of a media's step: for every selected asset, or per asset by name (`assets`)."""

    assets: dict[str, FetchConfig] = Field(
        default_factory=dict,
        description="asset name (e.g. funds) -> that asset's own agents_list / account_list, "
        "instead of the step's",
    )

    failed_only: bool = Field(
        default=False,
        description="re-fetch only what failed in each selected asset's latest materialization of the "
        "partition (the failed accounts; an advertiser list's failed agents); assets where nothing "
        "failed are skipped. Not combined with agents_list / account_list / assets.",
    )

    def for_asset(self, name: str) -> FetchConfig:
        """The slice asset `name` runs with: its own entry in `assets`, else the step's."""
        if name in self.assets:
            return self.assets[name]
        return FetchConfig(agents_list=self.agents_list, account_list=self.account_list)
