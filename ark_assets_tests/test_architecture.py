"""Contract: the layout is the architecture, and checks keep it so (no service needed).

- The import contracts (setup.cfg `[importlinter]`) hold: the product's layers import one way,
  the lower layers import no Dagster, the product imports none of its tools, and the simulator
  imports nothing of the product.
- A media lives in its own module: no other module's code (names, attributes, string literals;
  docstrings and comments may give examples) names a particular media, in the product
  (`ark_assets/media/<media>.py` are the exceptions) or in the simulator (`ark_sim/media/<media>.py`).
- Small parts: no product module over 400 lines, no function over 60, so each can be read whole.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ark_assets.media.registry import names as product_media
from ark_sim.media import names as simulator_media

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (of the module, classes and functions)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def media_named_in_code(path: Path, media: tuple[str, ...]) -> list[str]:
    """`file:line: what` for every name, attribute or string literal (not a docstring) naming a media."""
    words = "|".join(map(re.escape, media))
    in_name = re.compile(rf"(?i)(^|_)({words})(_|$)")
    in_text = re.compile(rf"(?i)(?<![a-z0-9])({words})(?![a-z0-9])")  # `_` and `/` separate words
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = node.name
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.rsplit(".", 1)[-1]
        if name is not None and in_name.search(name):
            hits.append(f"{shown}:{node.lineno}: {name}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and in_text.search(node.value)
        ):
            hits.append(f"{shown}:{node.lineno}: {node.value[:60]!r}")
    return hits


@pytest.mark.parametrize(
    ("package", "media"),
    [("ark_assets", product_media()), ("ark_sim", simulator_media())],
    ids=["product", "simulator"],
)
def test_no_module_but_a_medias_own_names_that_media(package: str, media: tuple[str, ...]) -> None:
    own = {ROOT / package / "media" / f"{name}.py" for name in media}
    hits = [
        hit
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in own
        for hit in media_named_in_code(path, media)
    ]
    assert not hits, "media named outside their own modules:\n" + "\n".join(hits)


def test_the_check_finds_a_media_named_in_code(tmp_path: Path) -> None:
    """The grep above is only worth something if it would catch an offender."""
    offender = tmp_path / "offender.py"
    offender.write_text(
        '"""Docstrings may name gdt."""\n'
        'KEY = "gdt_agents_{tenant}"\n'  # a string literal
        'if media == "jrtt":\n'  # a comparison with one
        "    jrtt_url = 1\n"  # a name
    )
    assert len(media_named_in_code(offender, ("gdt", "jrtt"))) == 3


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def _oversized(package: Path) -> list[str]:
    """The modules and functions of `package` longer than the limits, as `path[:line] name lines`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        shown = path.relative_to(package.parent)
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            found.append(f"{shown} {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{shown}:{node.lineno} {node.name} {length} lines")
    return found


def test_no_module_or_function_of_the_product_is_too_long_to_read_whole() -> None:
    assert _oversized(ROOT / "ark_assets") == []


def test_the_size_check_finds_a_long_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (package / "long.py").write_text(f"def long():\n{body}\n")
    assert _oversized(package) == ["pkg/long.py:1 long 61 lines"]
