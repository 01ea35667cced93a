"""The plain end-to-end script: what `lks-pipeline process` is measured against.

    python -m benchmarks.kaal <data_root> <database> <reports>

Reads the inbox under `<data_root>/inbox` with DuckDB and lxml, no Dagster, no pandas, one
process, and writes the same signaalrapporten to `<reports>/GMxxxx/` that the pipeline writes to
`reports/`: the benchmark runner fails the figure unless every file is byte-identical. It is
written the way a careful analyst would, from the product rules (docs/product.md), not from the
pipeline's modules:

- verwijsindex: one `read_csv` over every gemeente's newest file, the row rules in SQL;
- DKD: each gemeente's newest verzamelbestand streamed with `iterparse`, each Client validated
  against the XSD of its namespace, the BSN and period rules in Python;
- UWV: each new delivery day with `read_csv`, the row rules in SQL, then the signal path of
  `signaalpad.sql` and the reports as UTF-8 with BOM, `;` and CRLF.

`<database>` keeps what the script loaded between runs, so a second run over a grown inbox does
only the increment: newer verwijsindex and DKD files replace their gemeente, new days are added.
It keeps no quarantine, `leveringen`, aanleverfouten, notifications or analysts' copy: only what
the reports need.
"""

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
HIER = Path(__file__).resolve().parent
XSD = REPO / "lks_pipeline" / "ingest" / "xsd"
NAAM = re.compile(r"(?P<soort>[a-z_]+?)_(?:(?P<code>GM\d{4})_)?(?P<datum>\d{8})\.(?:csv|xml)")

TABELLEN = """
CREATE TABLE IF NOT EXISTS geladen (bestand VARCHAR);
CREATE TABLE IF NOT EXISTS verwijsindex (gemeentecode VARCHAR, bsn VARCHAR, cluster VARCHAR);
CREATE TABLE IF NOT EXISTS dkd_reintegratie (gemeentecode VARCHAR, bsn VARCHAR);
CREATE TABLE IF NOT EXISTS dkd_doelgroepen (
    gemeentecode VARCHAR, bsn VARCHAR, code VARCHAR, begindatum DATE, einddatum DATE);
CREATE TABLE IF NOT EXISTS dkd_inzetten (gemeentecode VARCHAR, bsn VARCHAR);
CREATE TABLE IF NOT EXISTS dkd_loonkostensubsidies (
    gemeentecode VARCHAR, bsn VARCHAR, begindatum DATE, einddatum DATE,
    percentage_loonwaarde DOUBLE);
CREATE TABLE IF NOT EXISTS uwv_events (
    leverdatum DATE, regel BIGINT, uwv_kenmerk VARCHAR, berichttype VARCHAR, bsn VARCHAR,
    geboortedatum DATE, achternaam VARCHAR, voorvoegsel VARCHAR, voorletters VARCHAR,
    naam_administratieve_eenheid VARCHAR, loonheffingennummer VARCHAR,
    datum_eerste_ao_dag DATE, datum_einde_arbeidsverhouding DATE,
    datum_einde_uitkeringsverhouding DATE, begindatum_zw_uitkering DATE,
    einddatum_zw_uitkering DATE);
CREATE TABLE IF NOT EXISTS signalen (leverdatum DATE, uwv_kenmerk VARCHAR, uitkomst VARCHAR);
CREATE OR REPLACE TEMP MACRO elfproef(b) AS CASE
    WHEN regexp_full_match(coalesce(b, ''), '[0-9]{9}') AND b <> '000000000' THEN
        (9 * b[1]::INT + 8 * b[2]::INT + 7 * b[3]::INT + 6 * b[4]::INT + 5 * b[5]::INT
         + 4 * b[6]::INT + 3 * b[7]::INT + 2 * b[8]::INT - b[9]::INT) % 11 = 0
    ELSE false END;
CREATE OR REPLACE TEMP MACRO datum(d) AS CASE
    WHEN regexp_full_match(d, '\\d{4}-\\d{2}-\\d{2}') THEN try_strptime(d, '%Y-%m-%d')::DATE END;
"""

CLUSTERS = ("Uitkeringen", "Debiteuren", "Bijzondere bijstand", "Reintegratie",
            "Aanvraag uitkeringen")  # fmt: skip
UWV_KOLOMMEN = (
    "uwv_kenmerk", "berichttype", "bsn", "geboortedatum", "achternaam", "voorvoegsel",
    "voorletters", "naam_administratieve_eenheid", "loonheffingennummer", "datum_eerste_ao_dag",
    "datum_einde_arbeidsverhouding", "datum_einde_uitkeringsverhouding",
    "begindatum_zw_uitkering", "einddatum_zw_uitkering",
)  # fmt: skip
UWV_DATUMS = (3, 9, 10, 11, 12, 13)  # positions of the date columns in UWV_KOLOMMEN

# rules 4.1: a row breaking any of these is left out (the pipeline quarantines it).
UWV_LEZEN = """
CREATE OR REPLACE TEMP TABLE ruw AS
SELECT row_number() OVER () AS regel, * FROM read_csv(?, delim = ';', header = true,
    auto_detect = false, columns = ?, quote = '"', escape = '"')
"""
UWV_SQL = """
CREATE OR REPLACE TEMP TABLE getypt AS
SELECT regel, uwv_kenmerk, berichttype, bsn, {datums_getypt}, achternaam, voorvoegsel,
    voorletters, naam_administratieve_eenheid, loonheffingennummer,
    {datums_geldig} AS datums_geldig,
    row_number() OVER (PARTITION BY uwv_kenmerk ORDER BY regel) AS keer
FROM ruw;
INSERT INTO uwv_events
SELECT getvariable('dag'), regel, uwv_kenmerk, berichttype, bsn, geboortedatum, achternaam,
    voorvoegsel, voorletters, naam_administratieve_eenheid, loonheffingennummer,
    datum_eerste_ao_dag, datum_einde_arbeidsverhouding, datum_einde_uitkeringsverhouding,
    begindatum_zw_uitkering, einddatum_zw_uitkering
FROM getypt
WHERE uwv_kenmerk IS NOT NULL AND keer = 1
  AND berichttype IN ('ZIEK_UIT_DIENST', 'EINDE_ZW')
  AND elfproef(bsn) AND datums_geldig
  AND coalesce(geboortedatum <= getvariable('dag'), true)
  AND (berichttype <> 'EINDE_ZW' OR (geboortedatum IS NOT NULL AND achternaam IS NOT NULL
       AND voorletters IS NOT NULL AND begindatum_zw_uitkering IS NOT NULL))
  AND (berichttype <> 'ZIEK_UIT_DIENST' OR (datum_eerste_ao_dag IS NOT NULL
       AND datum_einde_arbeidsverhouding IS NOT NULL))
  AND coalesce(datum_einde_arbeidsverhouding >= datum_eerste_ao_dag, true)
  AND coalesce(einddatum_zw_uitkering >= begindatum_zw_uitkering, true);
"""

RAPPORTEN = {
    "Re-integratie_signaalrapport": (
        "BSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;Datum eerste AO-dag",
        "b_rapport_reintegratie",
    ),
    "LKS_einde_zw_signaalrapport": (
        "BSN;Geboortedatum;Achternaam;Voorvoegsel;Voorletter(s);Naam administratieve eenheid;"
        "Loonheffingsnummer;Zekerheid Loonkostensubsidie;Datum ziekmelding;"
        "Begindatum ZW uitkering;Datum betermelding;Einddatum ZW uitkering",
        "b_rapport_einde_zw",
    ),
}


def nieuwste(map_: Path, soort: str) -> dict[str, Path]:
    """Each gemeente's newest file of `soort` (verwijsindex, dkd_reintegratie)."""
    per_gemeente: dict[str, Path] = {}
    for pad in sorted(map_.glob(f"{soort}_GM*")):
        naam = NAAM.fullmatch(pad.name)
        if naam and naam["soort"] == soort:
            per_gemeente[naam["code"]] = pad  # sorted: a later date wins
    return per_gemeente


def nog_niet_geladen(conn, paden: dict[str, Path]) -> dict[str, Path]:
    """The files an earlier run of the script has not loaded yet."""
    geladen = {b for (b,) in conn.execute("SELECT bestand FROM geladen").fetchall()}
    return {code: pad for code, pad in paden.items() if pad.name not in geladen}


def laad_verwijsindex(conn, paden: dict[str, Path]) -> None:
    """Rules 4.2: valid BSN, a known cluster, each (bsn, cluster) once; the newest file wins."""
    if not paden:
        return
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE vi AS SELECT regexp_extract(filename, "
        "'verwijsindex_(GM[0-9]{4})_', 1) AS gemeentecode, bsn, cluster FROM read_csv(?, "
        "delim = ';', header = true, auto_detect = false, filename = true, "
        "columns = {'bsn': 'VARCHAR', 'cluster': 'VARCHAR'})",
        [[str(p) for p in paden.values()]],
    )
    conn.execute("DELETE FROM verwijsindex WHERE gemeentecode IN ?", [list(paden)])
    conn.execute(
        "INSERT INTO verwijsindex SELECT DISTINCT gemeentecode, bsn, cluster FROM vi "
        "WHERE elfproef(bsn) AND cluster IN ?",
        [list(CLUSTERS)],
    )
    conn.execute("INSERT INTO geladen SELECT unnest(?)", [[p.name for p in paden.values()]])


# One line per Client, Doelgroep, ReintegratieInzet and Loonkostensubsidie, seven fields each:
# soort; Client number; BSN; then each element's own fields (dates, code, percentage).
XSLT = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:d="{ns}"><xsl:output method="text"/>
<xsl:template match="/"><xsl:for-each select="/d:GSDDossierReintegratie/d:Client">
  <xsl:variable name="c" select="concat(';', position() + $eerder, ';', d:BSN, ';')"/>
  <xsl:value-of select="concat('C', $c, ';;;', $nl)"/>
  <xsl:for-each select="d:Doelgroep">
    <xsl:value-of select="concat('D', $c, d:Begindatum, ';', d:Einddatum, ';', d:Code, ';', $nl)"/>
  </xsl:for-each>
  <xsl:for-each select="d:ReintegratieInzet">
    <xsl:value-of select="concat('I', $c, d:Begindatum, ';', d:Einddatum, ';;', $nl)"/>
    <xsl:for-each select="d:Loonkostensubsidie">
      <xsl:value-of select="concat('L', $c, d:Begindatum, ';', d:Einddatum, ';;',
        d:PercentageLoonwaarde, $nl)"/>
    </xsl:for-each>
  </xsl:for-each>
</xsl:for-each></xsl:template>
<xsl:variable name="nl" select="'&#10;'"/><xsl:param name="eerder" select="0"/>
</xsl:stylesheet>"""
RIJ = ("soort", "n", "bsn", "begin", "eind", "code", "procent")

# Rules 4.4 over those lines: a Client is out when its BSN fails the elfproef, one of its periods
# is unusable (a year outside 0001-9999, Einddatum before Begindatum) or an earlier Client that
# was kept has its BSN.
DKD_SQL = """
CREATE OR REPLACE TEMP MACRO dag(v) AS CASE
    WHEN length(v) = 10 OR (v[5] = '-' AND regexp_full_match(v[1:4], '[0-9]{4}')) THEN v[1:10] END;
CREATE OR REPLACE TEMP TABLE x AS
    SELECT soort, n::INT AS n, bsn, dag(begin) AS begin, dag(nullif(eind, '')) AS eind,
        nullif(begin, '') IS NOT NULL AND (dag(begin) IS NULL
            OR (nullif(eind, '') IS NOT NULL AND (dag(eind) IS NULL OR dag(eind) < dag(begin))))
            AS fout,
        code, nullif(procent, '')::DOUBLE AS procent
    FROM rijen;
CREATE OR REPLACE TEMP TABLE goed AS
    SELECT min(n) AS n, bsn FROM x
    WHERE soort = 'C' AND elfproef(bsn) AND n NOT IN (SELECT n FROM x WHERE fout)
    GROUP BY bsn;
DELETE FROM dkd_reintegratie WHERE gemeentecode = getvariable('code');
DELETE FROM dkd_doelgroepen WHERE gemeentecode = getvariable('code');
DELETE FROM dkd_inzetten WHERE gemeentecode = getvariable('code');
DELETE FROM dkd_loonkostensubsidies WHERE gemeentecode = getvariable('code');
INSERT INTO dkd_reintegratie SELECT getvariable('code'), bsn FROM goed;
INSERT INTO dkd_doelgroepen SELECT getvariable('code'), bsn, code, begin, eind
    FROM x SEMI JOIN goed USING (n) WHERE soort = 'D';
INSERT INTO dkd_inzetten SELECT getvariable('code'), bsn FROM x SEMI JOIN goed USING (n)
    WHERE soort = 'I';
INSERT INTO dkd_loonkostensubsidies SELECT getvariable('code'), bsn, begin, eind, procent
    FROM x SEMI JOIN goed USING (n) WHERE soort = 'L';
"""


class Dkd:
    """Each gemeente's newest verzamelbestand replaces its rows in the four DKD tables.

    The document streams in batches of Clients: each Client is validated against the XSD of its
    namespace (a failing one is dropped), an XSLT turns the batch into lines, and the batch
    leaves the tree. DuckDB then judges all lines of the file with the rules above.
    """

    BATCH = 5_000

    def __init__(self, conn):
        self.conn = conn
        self.per_ns: dict[str, tuple[etree.XMLSchema, etree.XSLT]] = {}

    def voor(self, namespace: str) -> tuple[etree.XMLSchema, etree.XSLT]:
        if namespace not in self.per_ns:
            versie = namespace.rsplit(":", 1)[-1]
            schema = etree.XMLSchema(etree.parse(str(XSD / f"{versie}.xsd")))
            xslt = etree.XSLT(etree.fromstring(XSLT.replace("{ns}", namespace).encode()))
            self.per_ns[namespace] = schema, xslt
        return self.per_ns[namespace]

    def lees(self, code: str, pad: Path) -> None:
        stukken: list[bytes] = []
        batch: list = []
        gelezen = 0
        for _, client in etree.iterparse(str(pad), tag="{*}Client", resolve_entities=False):
            batch.append(client)
            if len(batch) == self.BATCH:
                stukken.append(self.batch(batch, gelezen))
                gelezen += len(batch)
                batch = []
        if batch:
            stukken.append(self.batch(batch, gelezen))
        opties = pacsv.ReadOptions(column_names=RIJ)
        soorten = pacsv.ConvertOptions(column_types=dict.fromkeys(RIJ, pa.string()))
        rijen = pacsv.read_csv(  # noqa: F841 - read by the SQL below
            pa.BufferReader(b"".join(stukken)),
            read_options=opties,
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False),
            convert_options=soorten,
        )
        self.conn.execute("SET VARIABLE code = ?", [code])
        self.conn.execute(DKD_SQL)

    def batch(self, clients: list, eerder: int) -> bytes:
        """The batch's lines (Clients numbered after `eerder`), from a tree of its own.

        The Clients move out of the streamed tree, which may already hold the start of the next
        Client (the parser reads ahead), and take nothing else with them.
        """
        root = clients[0].getparent()
        schema, xslt = self.voor(etree.QName(root).namespace)
        eigen = etree.Element(root.tag)
        for client in clients:
            if schema.validate(client):
                eigen.append(client)
            else:
                root.remove(client)
        while len(root) and root[0].tag != clients[0].tag:
            root.remove(root[0])  # Stuurgegevens, before the first Client
        return bytes(xslt(etree.ElementTree(eigen), eerder=str(eerder)))


def elfproef(bsn: str | None) -> bool:
    """Nine ASCII digits passing the elfproef, not all zeros."""
    if bsn is None or len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    som = sum(int(c) * w for c, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return som % 11 == 0 and bsn != "000000000"


def laad_uwv(conn, pad: Path, dag: dt.date) -> None:
    """One delivery day's valid events into `uwv_events`."""
    kolommen = {k: "VARCHAR" for k in UWV_KOLOMMEN}
    getypt = ", ".join(f"datum({UWV_KOLOMMEN[i]}) AS {UWV_KOLOMMEN[i]}" for i in UWV_DATUMS)
    geldig = " AND ".join(
        f"({UWV_KOLOMMEN[i]} IS NULL OR datum({UWV_KOLOMMEN[i]}) IS NOT NULL)" for i in UWV_DATUMS
    )
    sql = UWV_SQL.format(datums_getypt=getypt, datums_geldig=geldig)
    conn.execute("SET VARIABLE dag = ?", [dag])
    conn.execute(UWV_LEZEN, [str(pad), kolommen])
    conn.execute(sql)
    conn.execute("INSERT INTO geladen VALUES (?)", [pad.name])


def signalen_en_rapporten(conn, dag: dt.date, rapporten: Path) -> int:
    """The day's signal path (`signaalpad.sql`) and its report files; returns how many."""
    conn.execute("SET VARIABLE dag = ?", [dag])
    conn.execute((HIER / "signaalpad.sql").read_text())
    conn.execute(
        "INSERT INTO signalen SELECT getvariable('dag'), uwv_kenmerk, uitkomst "
        "FROM benchmark_signalen"
    )
    aantal = 0
    for rapport, (kop, view) in RAPPORTEN.items():
        rijen = conn.execute(f"SELECT * FROM {view}").fetchall()  # noqa: S608
        per_gemeente: dict[str, list] = {}
        for gemeentecode, *cellen in rijen:
            per_gemeente.setdefault(gemeentecode, []).append(cellen)
        for gemeentecode, cellen in per_gemeente.items():
            buffer = io.StringIO(newline="")
            schrijver = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
            schrijver.writerow(kop.split(";"))
            schrijver.writerows(cellen)
            map_ = rapporten / gemeentecode
            map_.mkdir(parents=True, exist_ok=True)
            pad = map_ / f"{gemeentecode}_{rapport}_{dag:%Y%m%d}.csv"
            pad.write_bytes(("\ufeff" + buffer.getvalue()).encode("utf-8"))
            aantal += 1
    return aantal


def main(argv: list[str]) -> int:
    """Load what is new in the inbox, then each new day's signals and reports."""
    root, database, rapporten = Path(argv[0]), argv[1], Path(argv[2])
    inbox = root / "inbox"
    with duckdb.connect(database) as conn:
        conn.execute(TABELLEN)
        conn.execute(
            "CREATE OR REPLACE TABLE doelgroepregister_codes AS SELECT code FROM read_csv(?, "
            "delim = ';', header = true, all_varchar = true)",
            [str(REPO / "lks_pipeline" / "referentie" / "doelgroepregister_codes.csv")],
        )
        laad_verwijsindex(conn, nog_niet_geladen(conn, nieuwste(inbox / "verwijsindex",
                                                                "verwijsindex")))  # fmt: skip
        xml = nog_niet_geladen(conn, nieuwste(inbox / "dkd", "dkd_reintegratie"))
        dkd = Dkd(conn)
        for code, pad in xml.items():
            dkd.lees(code, pad)
        conn.execute("INSERT INTO geladen SELECT unnest(?)", [[p.name for p in xml.values()]])
        dagen = nog_niet_geladen(conn, {p.name: p for p in (inbox / "uwv").glob("uwv_lks_*.csv")})
        for naam, pad in sorted(dagen.items()):
            dag = dt.datetime.strptime(NAAM.fullmatch(naam)["datum"], "%Y%m%d").date()
            laad_uwv(conn, pad, dag)
            signalen_en_rapporten(conn, dag, rapporten)
        conn.execute("CHECKPOINT")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
