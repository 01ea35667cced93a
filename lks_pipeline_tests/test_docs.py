"""The README and docs/ stand alone: every relative link resolves, the configuration is complete."""

import re
import subprocess
from pathlib import Path

from lks_pipeline_tests.conftest import REPO

PAGES = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
LKS_VARIABLE = re.compile(r"LKS_[A-Z_]+[A-Z]")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of `page`: lower case, punctuation dropped, - for space."""
    found = set()
    for line in page.read_text().splitlines():
        if line.startswith("#") and not line.startswith("#!"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not relative
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{page.name}: {target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_every_relative_link_resolves():
    assert [b for page in PAGES for b in broken_links(page)] == []


def test_nothing_refers_outside_the_repository():
    """No file cites the spec or the notes the project was started from: they are not here."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"\.\./shared|\bDESIGN\b|DAGSTER-DUCKDB")
    citing = [
        name
        for name in tracked
        if name != "lks_pipeline_tests/test_docs.py"
        and (REPO / name).is_file()
        and not name.startswith("data/")
        and name != "uv.lock"
        and outside.search((REPO / name).read_text(errors="replace"))
    ]
    assert citing == []


def configuration_table() -> set[str]:
    text = (REPO / "docs" / "operations.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in LKS_VARIABLE.findall(row)}


def read_by_the_code() -> set[str]:
    return {
        name
        for path in (REPO / "lks_pipeline").rglob("*.py")
        for name in re.findall(r"[\"'](LKS_[A-Z_]+)[\"']", path.read_text())
    }


def test_the_configuration_table_lists_exactly_the_variables_the_code_reads():
    table, code = configuration_table(), read_by_the_code()
    assert sorted(code - table) == [], "read by the code, missing from docs/operations.md"
    assert sorted(table - code) == [], "in docs/operations.md, read by nothing"
    assert "LKS_DATA_DIR" in table  # the parse found the table at all


def test_the_readme_is_a_front_door():
    text = (REPO / "README.md").read_text()
    assert len(text.split()) <= 1200
    assert "```mermaid" in text
    commands = re.findall(r"^python3 -m pip install --quiet uv && (.+)$", text, re.M)
    assert commands == [
        "python3 -m uv run --locked lks-pipeline process",
        "python3 -m uv run --locked pytest",
    ]
