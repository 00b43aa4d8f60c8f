"""The module map in CONTRIBUTING.md, made from the package's own docstrings.

``python tests/support/module_map.py --write`` rewrites the map; the suite fails while the
map and the code disagree, so the map cannot go stale.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "checkout_monitor"
CONTRIBUTING = REPO / "CONTRIBUTING.md"
START, END = "<!-- module-map:start -->", "<!-- module-map:end -->"
SOURCE = "https://github.com/checkout-monitor/checkout-monitor/blob/main/src/checkout_monitor"


def summary(path: Path) -> str:
    """The first sentence-line of a module's docstring, or a marker that it has none."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not doc:
        return "**no docstring**"
    first = " ".join(doc.split("\n\n")[0].split())
    return first.replace("|", "\\|")


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")


def _packages(folder: Path) -> list[Path]:
    return sorted(p.parent for p in folder.glob("*/__init__.py"))


def render() -> str:
    """Markdown: the root modules, then each subpackage with its modules, in path order."""
    out = [
        "Made from the code by `python tests/support/module_map.py --write`; "
        "`tests/package/test_module_map.py` fails when it is stale.",
        "",
        "| module | what it is for |",
        "| --- | --- |",
        f"| `checkout_monitor` | {summary(PACKAGE / '__init__.py')} |",
    ]
    out += [f"| `{p.name}` | {summary(p)} |" for p in _modules(PACKAGE)]
    for package in _packages(PACKAGE):
        out += _package_rows(package)
    return "\n".join(out)


def _package_rows(package: Path) -> list[str]:
    name = package.relative_to(PACKAGE).as_posix()
    rows = [f"| **`{name}/`** | {summary(package / '__init__.py')} |"]
    rows += [f"| `{name}/{p.name}` | {summary(p)} |" for p in _modules(package)]
    for sub in _packages(package):
        rows += _package_rows(sub)
    return rows


def current(text: str) -> str:
    """What CONTRIBUTING.md holds between the markers."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def rewrite(text: str) -> str:
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{START}\n{render()}\n{END}{after}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/support/module_map.py --write")
    CONTRIBUTING.write_text(rewrite(CONTRIBUTING.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"module map written to {CONTRIBUTING}")
