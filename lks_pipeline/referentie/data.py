"""Reference data shipped in the package.

The CBS gemeenten of 2025 and the doelgroepregister codes of the LKS population (rules 4.3).
Pure: no dagster, no DuckDB.
"""

import csv
import hashlib
from functools import cache

from lks_pipeline.core.files import package_file


def _read(name: str) -> list[dict[str, str]]:
    with package_file(__package__, name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def fingerprint(name: str) -> str:
    """Identity of a packaged file, so `lks-pipeline process` knows when to reload it."""
    return hashlib.sha256(package_file(__package__, name).read_bytes()).hexdigest()[:16]


@cache
def gemeenten() -> tuple[dict[str, str], ...]:
    """The 342 gemeenten of 1 January 2025: gemeentecode, gemeentenaam, provincie."""
    return tuple(_read("gemeenten.csv"))


@cache
def gemeentecodes() -> frozenset[str]:
    """Every valid gemeentecode; a file name naming any other code is rejected (rules 3)."""
    return frozenset(g["gemeentecode"] for g in gemeenten())


@cache
def gemeentenamen() -> dict[str, str]:
    """Each gemeentecode's gemeentenaam, as the CBS list spells it."""
    return {g["gemeentecode"]: g["gemeentenaam"] for g in gemeenten()}


@cache
def doelgroepregister_codes() -> tuple[dict[str, str], ...]:
    """Codes that put a person in the LKS population: the Banenafspraak incl. beschut werk."""
    return tuple(_read("doelgroepregister_codes.csv"))
