"""Reference data shipped in the package.

The CBS gemeenten of 2025 and the doelgroepregister codes of the LKS population (DESIGN 4.3).
Pure: no dagster, no DuckDB.
"""

import csv
from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE_DATA = files("lks_pipeline") / "package_data"


def package_file(name: str) -> Path:
    """Path of a file in `package_data/` (the package is installed from a folder, never a zip)."""
    return Path(str(PACKAGE_DATA / name))


def _read(name: str) -> list[dict[str, str]]:
    with package_file(name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@cache
def gemeenten() -> tuple[dict[str, str], ...]:
    """The 342 gemeenten of 1 January 2025: gemeentecode, gemeentenaam, provincie."""
    return tuple(_read("gemeenten.csv"))


@cache
def gemeentecodes() -> frozenset[str]:
    """Every valid gemeentecode; a file name naming any other code is rejected (DESIGN 3)."""
    return frozenset(g["gemeentecode"] for g in gemeenten())


@cache
def doelgroepregister_codes() -> tuple[dict[str, str], ...]:
    """Codes that put a person in the LKS population: the Banenafspraak incl. beschut werk."""
    return tuple(_read("doelgroepregister_codes.csv"))
