"""The docs stay readable and linked: docs/ builds as a site with no broken link or anchor,
README.md stays short with every relative link resolving, and the demo config's runbook
links land on a heading that exists (an on-call person follows them during an incident)."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README = REPO / "README.md"
REPO_URL = "https://github.com/checkout-monitor/checkout-monitor"
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_LINK_TEXT = re.compile(r"\[([^\]]*)\]\([^)]*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def _outside_code(markdown: str) -> list[str]:
    """The lines of a Markdown file that are not inside a fenced code block."""
    lines: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            lines.append(line)
    return lines


def slugify(heading: str) -> str:
    """A heading's anchor as MkDocs' default toc makes it (Python-Markdown's slugify)."""
    text = INLINE_LINK_TEXT.sub(r"\1", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(markdown_file: Path) -> set[str]:
    """Every heading anchor of a Markdown file; a repeated heading gets _1, _2 as in MkDocs."""
    found: set[str] = set()
    for line in _outside_code(markdown_file.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = slugify(match.group(2))
        unique, n = slug, 0
        while unique in found:
            n += 1
            unique = f"{slug}_{n}"
        found.add(unique)
    return found


def relative_links(markdown_file: Path) -> list[str]:
    """The targets of the Markdown links in a file that point inside the repository."""
    targets: list[str] = []
    for line in _outside_code(markdown_file.read_text(encoding="utf-8")):
        for target in MARKDOWN_LINK.findall(line):
            if not EXTERNAL.match(target):
                targets.append(target)
    return targets


def broken(source: Path, target: str) -> str | None:
    """Why a link from source to `path#anchor` leads nowhere, or None when it resolves."""
    path, _, anchor = target.partition("#")
    file = (source.parent / path).resolve() if path else source
    if not file.exists():
        return f"{target}: there is no {file}"
    if anchor and file.suffix == ".md" and anchor not in anchors(file):
        return f"{target}: no heading with the anchor #{anchor} in {file.relative_to(REPO)}"
    return None


def _runbooks(node: Any) -> list[str]:
    """Every `runbook:` value anywhere in a parsed YAML document."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "runbook" and isinstance(v, str)]
        return found + [url for v in node.values() for url in _runbooks(v)]
    if isinstance(node, list):
        return [url for item in node for url in _runbooks(item)]
    return []


def test_the_docs_site_builds_with_no_broken_link_or_anchor(tmp_path: Path) -> None:
    """mkdocs.yml makes a broken link, a missing anchor or a page left out of nav a warning,
    and --strict fails on any. (No -q: quiet mode drops the warnings, and --strict with them.)"""
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(REPO / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_readme_is_short_and_its_links_resolve() -> None:
    """The README is what a newcomer reads first, maybe at 3 a.m.: it stays short, and every
    link into docs/ (and the rest of the repository) leads to a file and heading that exist."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines"

    links = relative_links(README)
    assert any(link.startswith("docs/") for link in links), "README.md links to no docs/ page"
    problems = [problem for link in links if (problem := broken(README, link))]
    assert not problems, "README.md links that lead nowhere:\n" + "\n".join(problems)


def test_the_demo_runbook_links_name_a_docs_heading() -> None:
    """The demo journeys' runbook links are printed with every failure and sent with every
    alert; each one into this repository must open a page at a heading that exists."""
    configs = sorted((REPO / "src" / "checkout_monitor").rglob("demo_config.yaml"))
    assert len(configs) == 1, configs
    runbooks = _runbooks(yaml.safe_load(configs[0].read_text(encoding="utf-8")))
    ours = [url for url in runbooks if url.startswith(REPO_URL)]
    assert ours, f"no runbook in {configs[0].relative_to(REPO)} points into {REPO_URL}"

    problems: list[str] = []
    for url in ours:
        rest = url.removeprefix(REPO_URL)
        if rest.startswith("#"):  # the repository's front page shows README.md
            target = "README.md" + rest
        elif rest.startswith("/blob/main/"):
            target = rest.removeprefix("/blob/main/")
        else:
            problems.append(f"{url}: not a link to a file on main")
            continue
        if "#" not in target:
            problems.append(f"{url}: names no heading")
        elif problem := broken(REPO / "README.md", target):  # relative to the repository
            problems.append(f"{url}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("What each demo fault breaks", "what-each-demo-fault-breaks"),
        ("Run continuously: `checkout-monitor serve`", "run-continuously-checkout-monitor-serve"),
        (
            "Card payments: hosted fields, a hosted payment page, 3-D Secure",
            "card-payments-hosted-fields-a-hosted-payment-page-3-d-secure",
        ),
        ("A passing run: `make demo`", "a-passing-run-make-demo"),
        ("The agent's listener", "the-agents-listener"),
    ],
)
def test_anchors_are_made_as_mkdocs_makes_them(heading: str, anchor: str) -> None:
    """The link checks above are only as good as their idea of an anchor: these are the ids
    MkDocs gives these headings."""
    assert slugify(heading) == anchor
