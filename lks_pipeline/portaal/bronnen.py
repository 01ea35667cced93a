"""What the portal reads from the pipeline: the analysts' copy of the warehouse (rules 6.4).

Never the live `lks.duckdb`: the copy is replaced whole by a rename after each run, so a
read-only connection opened per request sees one published state, and the pipeline never waits
for the portal. Before the first run there is no copy, and every list is empty.
Every query is bound to one gemeentecode: nothing here can return another gemeente's rows.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

RAPPORT_SQL = """
SELECT bestand, product, leverdatum, pad, sha256, aantal, geschreven_op FROM signaalrapporten
WHERE gemeentecode = $gemeentecode AND product = ANY($producten) {extra}
ORDER BY leverdatum DESC, bestand"""
FOUTEN_SQL = """
SELECT fouttype, aantal, toelichting, sinds FROM dkd_aanleverfouten_actueel
WHERE gemeentecode = $gemeentecode ORDER BY sinds, fouttype"""
LEVERINGEN_SQL = """
SELECT feed, max(leverdatum) FROM leveringen
WHERE gemeentecode = $gemeentecode AND status IN ('geladen', 'vervangen')
  AND feed IN ('verwijsindex', 'dkd_reintegratie')
GROUP BY feed"""
GEMEENTEN_SQL = """
SELECT gemeentecode FROM signaalrapporten UNION SELECT gemeentecode FROM dkd_aanleverfouten_actueel
ORDER BY 1"""
ALLE_INSTELLINGEN_SQL = """
SELECT leverdatum, gemeentecode, aanlevermethode, berichtversie, url, leverfrequentie,
    notificatie_email FROM dkd_instellingen_actueel ORDER BY gemeentecode"""
EIGEN_LEVERINGEN_SQL = """
SELECT feed, bestand, leverdatum, sha256, status, regels_geladen, regels_gequarantaineerd, reden,
    verwerkt_op FROM leveringen
WHERE gemeentecode = $gemeentecode AND feed IN ('verwijsindex', 'dkd_reintegratie')
ORDER BY leverdatum DESC, verwerkt_op DESC"""
INSTELLINGEN_SQL = """
SELECT aanlevermethode, leverfrequentie FROM dkd_instellingen_actueel
WHERE gemeentecode = $gemeentecode"""


@dataclass(frozen=True)
class Rapport:
    """The pipeline's record of one signaalrapport file."""

    bestand: str
    product: str
    leverdatum: dt.date
    pad: str
    sha256: str
    aantal: int
    geschreven_op: dt.datetime


@dataclass(frozen=True)
class Aanleverfout:
    """One open DKD-aanleverfout of the newest evaluated day."""

    fouttype: str
    aantal: int
    toelichting: str
    sinds: dt.date


@dataclass(frozen=True)
class Stand:
    """What the dashboard shows of a gemeente's deliveries."""

    laatste: dict[str, dt.date]
    aanlevermethode: str | None
    leverfrequentie: str | None


@contextmanager
def _copy(path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if not path.is_file():
        yield None
        return
    conn = duckdb.connect(str(path), read_only=True)
    try:
        yield conn
    finally:
        conn.close()


def rapporten(path: Path, gemeentecode: str, producten: list[str]) -> list[Rapport]:
    """The gemeente's reports of these products, newest first."""
    return _rapporten(path, gemeentecode, producten, "", {})


def rapport(path: Path, gemeentecode: str, producten: list[str], bestand: str) -> Rapport | None:
    """The record of one report of the gemeente, or None when it has no such report."""
    found = _rapporten(
        path, gemeentecode, producten, "AND bestand = $bestand", {"bestand": bestand}
    )
    return found[0] if found else None


def _rapporten(path: Path, gemeentecode: str, producten: list[str], extra: str, params: dict):
    if not producten:
        return []
    with _copy(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            RAPPORT_SQL.format(extra=extra),
            {"gemeentecode": gemeentecode, "producten": producten, **params},
        ).fetchall()
    # geschreven_op is UTC (core.warehouse.utc_now); aware, the pages show it in Amsterdam time.
    return [Rapport(*row[:-1], row[-1].replace(tzinfo=dt.UTC)) for row in rows]


def aanleverfouten(path: Path, gemeentecode: str) -> list[Aanleverfout]:
    """The gemeente's open DKD-aanleverfouten (rules 6.3), oldest first."""
    with _copy(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(FOUTEN_SQL, {"gemeentecode": gemeentecode}).fetchall()
    return [Aanleverfout(*row) for row in rows]


def stand(path: Path, gemeentecode: str) -> Stand:
    """The gemeente's last accepted delivery per feed, and how it delivers DKD data."""
    with _copy(path) as conn:
        if conn is None:
            return Stand({}, None, None)
        laatste = dict(conn.execute(LEVERINGEN_SQL, {"gemeentecode": gemeentecode}).fetchall())
        instelling = conn.execute(INSTELLINGEN_SQL, {"gemeentecode": gemeentecode}).fetchone()
    return Stand(laatste, *(instelling or (None, None)))


def gemeenten_met_gegevens(path: Path) -> list[str]:
    """Every gemeente with a report or an open aanleverfout in the copy (for the demo users)."""
    with _copy(path) as conn:
        return [] if conn is None else [r[0] for r in conn.execute(GEMEENTEN_SQL).fetchall()]


def instellingen(path: Path) -> tuple[dt.date | None, dict[str, tuple]]:
    """The snapshot the pipeline holds: its date, and per gemeente its row (4.5 columns)."""
    with _copy(path) as conn:
        rows = [] if conn is None else conn.execute(ALLE_INSTELLINGEN_SQL).fetchall()
    return (rows[0][0] if rows else None), {row[1]: row[2:] for row in rows}


@dataclass(frozen=True)
class Verwerking:
    """The pipeline's record of one delivered file of the gemeente (`leveringen`)."""

    feed: str
    bestand: str
    leverdatum: dt.date
    sha256: str | None
    status: str
    regels_geladen: int
    regels_gequarantaineerd: int
    reden: str | None
    verwerkt_op: dt.datetime


def leveringen(path: Path, gemeentecode: str) -> list[Verwerking]:
    """The gemeente's verwijsindex and DKD files as the pipeline recorded them, newest first."""
    with _copy(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(EIGEN_LEVERINGEN_SQL, {"gemeentecode": gemeentecode}).fetchall()
    return [Verwerking(*row[:-1], row[-1].replace(tzinfo=dt.UTC)) for row in rows]
