"""The README's configuration table, rendered from the settings' declarations.

`python -m ark_assets.settings.readme` rewrites the table in README.md (between the
`settings:begin` / `settings:end` markers); a fast test fails when README and declarations differ,
so a variable, its default or its description cannot change in one place only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from ark_assets.settings.fields import fact
from ark_assets.settings.load import env_name
from ark_assets.settings.media import TEMPLATE, MediaSettings
from ark_assets.settings.platform import PlatformSettings

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| variable | default (development) | production | what it sets |\n|---|---|---|---|"


def declared() -> list[tuple[str, FieldInfo]]:
    """(variable name, declaration) of every variable, the platform's then a media's (`ARK_<MEDIA>_*`)."""
    rows = [
        (env_name(PlatformSettings, field), info) for field, info in PlatformSettings.model_fields.items()
    ]
    return rows + [(f"{TEMPLATE}{field.upper()}", info) for field, info in MediaSettings.model_fields.items()]


def shown_default(info: FieldInfo) -> str:
    """The default as the table states it."""
    shown = fact(info, "shown")
    if shown:
        return shown
    value: Any = info.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "on" if value else "off"
    return "empty" if value in ("", None) else f"`{value}`"


def table() -> str:
    lines = [HEADER]
    for name, info in declared():
        production = "**required**" if fact(info, "production") else "as in development"
        if fact(info, "production_when"):
            production = f"**required** {fact(info, 'production_when')}"
        lines.append(f"| `{name}` | {shown_default(info)} | {production} | {info.description} |")
    return "\n".join(lines)


def with_table(readme: str) -> str:
    """`readme` with the table between the markers replaced by the rendered one."""
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not (begin and end):
        raise ValueError(f"README.md lacks the {BEGIN} ... {END} markers around the configuration table")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    text = README.read_text(encoding="utf-8")
    README.write_text(with_table(text), encoding="utf-8")
    sys.stdout.write(f"{README}: configuration table of {len(declared())} variables written\n")
