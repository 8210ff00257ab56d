"""Every resource of the platform, configured from `ARK_*` variables (loopback defaults)."""

import dagster as dg

from ark_assets.resources.platform import platform_resources


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources=platform_resources())
