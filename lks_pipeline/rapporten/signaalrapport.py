"""Signaalrapporten (rules 6.1): rows to Excel-safe CSV bytes, and files written atomically.

Pure output code, no Dagster. The rows come from one DuckDB query per product that already
formats every cell (dates as DD-MM-JJJJ, the zekerheid omschrijving, the formula-injection
prefix), so no Python runs per cell; Python only writes the records.

Decisions where the spec is silent:
- Records end in CRLF (RFC 4180, what Excel writes); a cell holding `;`, `"` or a line break is
  quoted, with `"` doubled.
- Rows are sorted by BSN, then uwv_kenmerk, so two signals of one BSN on one day have a fixed
  order and a re-run gives the same bytes.
- A BSN keeps its nine digits in the file. Excel shows `010000008` as a number without its zero
  unless the column is imported as text; the README tells gemeente staff how.
- Files are mode 0600 in folders of mode 0700: readable by the service account only, which hands
  them on to the gemeente.
"""

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import duckdb

ZEKERHEID_OMSCHRIJVING = {
    1: "Re-integratie inzet met gegevens over Loonkostensubsidie gevonden.",
    2: "Re-integratie inzet gevonden maar (nog) geen gegevens over Loonkostensubsidie bekend.",
    3: "BSN bekend bij GSD.",
}

# A cell starting with one of these is a formula (or becomes one) in a spreadsheet.
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(expression: str) -> str:
    """SQL for `expression` as text, prefixed with `'` when Excel would read it as a formula."""
    tekens = ", ".join(f"chr({ord(t)})" for t in FORMULA_CHARACTERS)
    return (
        f"CASE WHEN left({expression}, 1) IN ({tekens}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def date_cell(expression: str) -> str:
    """SQL for a DATE as DD-MM-JJJJ (NULL stays an empty cell)."""
    return f"strftime({expression}, '%d-%m-%Y')"


def zekerheid(expression: str) -> str:
    """SQL for the omschrijving of a zekerheid code (rules 5.2), as quoted literals."""
    whens = " ".join(
        f"WHEN {code} THEN '{body.replace(chr(39), chr(39) * 2)}'"
        for code, body in ZEKERHEID_OMSCHRIJVING.items()
    )
    return f"CASE {expression} {whens} END"


@dataclass(frozen=True)
class Product:
    """One information product: its signals, its file name, its columns and its mail subject.

    `columns` pairs each header with the SQL of its cell, over `s` (signalen) and `e`
    (uwv_events of the same row). `slug` names the product in the portal's addresses
    (`/ophalen/<slug>/`), which the notification e-mail links to.
    """

    name: str
    rapport: str
    subject: str
    slug: str
    columns: tuple[tuple[str, str], ...]

    def file_name(self, gemeentecode: str, dag: dt.date) -> str:
        return f"{gemeentecode}_{self.rapport}_{dag:%Y%m%d}.csv"

    @property
    def header(self) -> list[str]:
        return [title for title, _ in self.columns]

    def query(self) -> str:
        """The day's `gemeld` signals of this product, one formatted row each, in file order.

        Parameters: `$dag` and `$product` (this product's `name`).
        """
        cellen = ",\n    ".join(sql for _, sql in self.columns)
        return (
            f"SELECT s.gemeentecode,\n    {cellen}\n"
            "FROM signalen AS s\n"
            "JOIN uwv_events AS e ON e.leverdatum = s.leverdatum AND e.regel = s.regel\n"
            "WHERE s.leverdatum = $dag AND s.uitkomst = 'gemeld' AND s.product = $product\n"
            "ORDER BY s.gemeentecode, s.bsn, s.uwv_kenmerk"
        )


REINTEGRATIE = Product(
    name="LKS re-integratie",
    rapport="Re-integratie_signaalrapport",
    subject="Er staat een 'Re-integratie_signaalrapport' voor u klaar",
    slug="lks-re-integratie",
    columns=(
        ("BSN", excel_safe("s.bsn")),
        ("Datum einde uitkeringsverhouding", date_cell("e.datum_einde_uitkeringsverhouding")),
        ("Datum einde arbeidsverhouding", date_cell("e.datum_einde_arbeidsverhouding")),
        ("Datum eerste AO-dag", date_cell("e.datum_eerste_ao_dag")),
    ),
)
EINDE_ZW = Product(
    name="LKS einde zw",
    rapport="LKS_einde_zw_signaalrapport",
    subject="Er staat een rapport 'LKS einde zw' voor u klaar",
    slug="lks-einde-zw",
    columns=(
        ("BSN", excel_safe("s.bsn")),
        ("Geboortedatum", date_cell("e.geboortedatum")),
        ("Achternaam", excel_safe("e.achternaam")),
        ("Voorvoegsel", excel_safe("e.voorvoegsel")),
        ("Voorletter(s)", excel_safe("e.voorletters")),
        ("Naam administratieve eenheid", excel_safe("e.naam_administratieve_eenheid")),
        ("Loonheffingsnummer", excel_safe("e.loonheffingennummer")),
        ("Zekerheid Loonkostensubsidie", zekerheid("s.zekerheid")),
        ("Datum ziekmelding", "NULL"),
        ("Begindatum ZW uitkering", date_cell("e.begindatum_zw_uitkering")),
        ("Datum betermelding", "NULL"),
        ("Einddatum ZW uitkering", date_cell("s.einddatum")),
    ),
)
PRODUCTEN = (REINTEGRATIE, EINDE_ZW)


@dataclass(frozen=True)
class Signaalrapport:
    """One report file's name and bytes, before it is written."""

    gemeentecode: str
    product: Product
    bestand: str
    content: bytes
    aantal: int


def rapporten(conn: duckdb.DuckDBPyConnection, dag: dt.date) -> list[Signaalrapport]:
    """The day's reports, one per gemeente and product with a `gemeld` signal, in file order."""
    made = []
    for product in PRODUCTEN:
        rijen = conn.execute(product.query(), {"dag": dag, "product": product.name}).fetchall()
        for gemeentecode, group in groupby(rijen, key=itemgetter(0)):
            data = [r[1:] for r in group]
            made.append(
                Signaalrapport(
                    gemeentecode,
                    product,
                    product.file_name(gemeentecode, dag),
                    csv_bytes(product.header, data),
                    len(data),
                )
            )
    return made


def csv_bytes(header: list[str], rows: list[tuple]) -> bytes:
    """UTF-8 with BOM, `;`, CRLF; None is an empty cell."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sha256(content: bytes) -> str:
    """Hex sha256 of a report's bytes: its identity in the records (and the mail ledger)."""
    return hashlib.sha256(content).hexdigest()


def rapporten_of_day(reports: Path, dag: dt.date) -> dict[str, Path]:
    """Every report file of `dag` under `reports/`, by file name (also ones no record knows)."""
    gevonden = {}
    for product in PRODUCTEN:
        for pad in reports.glob(f"GM[0-9][0-9][0-9][0-9]/*_{product.rapport}_{dag:%Y%m%d}.csv"):
            gevonden[pad.name] = pad
    return gevonden
