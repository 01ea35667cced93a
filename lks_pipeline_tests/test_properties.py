"""Properties of routing, outcomes and reports (rules 5, 6.1) over generated inboxes.

Hypothesis draws what a few gemeenten delivered (verwijsindex rows; DKD clients with doelgroepen,
inzetten and loonkostensubsidies, their periods around the window's edges) and two delivery days
of UWV events (kenmerken that repeat across the days, BSNs that no gemeente, one or several
gemeenten know, text that needs quoting or formula escaping). The rows go into a DuckDB warehouse
in memory, as the ingest assets store them, and the assets' own code runs on it: `compute_signalen`
(routing, outcome and zekerheid) for both days, then `signaalrapport.rapporten` (the files' bytes).
The feed parsers are not in this loop: they have their own tests and the hostile inbox; here the
point is many thousands of inboxes per minute, which a Dagster run per inbox would not allow.

What must hold for every inbox:
- no report (and no signal) names a BSN its gemeente did not itself deliver;
- every event has exactly the outcomes, with exactly the zekerheid, of a model written here from
  rules 5 in plain Python;
- each report's rows are exactly its gemeente's `gemeld` signals of its product, cell for cell as
  the model formats them, in BSN order; no report exists without such a signal;
- computing the day again, or loading the same inbox in another row order, gives the same bytes.

`HYPOTHESIS_PROFILE=lang` (conftest.py) runs 10,000 inboxes instead of CI's few hundred.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cache

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lks_pipeline.core.warehouse import ensure_schema
from lks_pipeline.rapporten import signaalrapport
from lks_pipeline.rapporten.signaalrapport import EINDE_ZW, REINTEGRATIE, ZEKERHEID_OMSCHRIJVING
from lks_pipeline.referentie.data import doelgroepregister_codes
from lks_pipeline.signalen.assets import compute_signalen

GEMEENTEN = ("GM0014", "GM0363", "GM0518")
BSNS = ("999999904", "555555501", "333333305", "777777708", "010000008")
KENMERKEN = tuple(f"UWV-{n:03}" for n in range(1, 8))
VORIGE, DAG = dt.date(2026, 11, 19), dt.date(2026, 11, 20)
REGISTER = frozenset(c["code"] for c in doelgroepregister_codes())
CODES = ("01", "20", "30", "99")  # two in the LKS population, two not
assert {"01", "20"} <= REGISTER
assert not REGISTER & {"30", "99"}
WETSWIJZIGING = dt.date(2022, 1, 1)


def min_twee_jaar(d: dt.date) -> dt.date:
    """The window's first day; 29 February two years back is 28 February."""
    try:
        return d.replace(year=d.year - 2)
    except ValueError:
        return d.replace(year=d.year - 2, day=28)


# Random dates seldom fall on an edge. So two in three peildata are one of a few with hard edges
# (a leap day, both sides of the 2022 law change), and a DKD period mostly begins on or beside
# the last day of the window of an event about the same person, or ends on or beside its first.
EEN_DAG = dt.timedelta(days=1)
PEILDATA = (dt.date(2024, 2, 29), dt.date(2021, 12, 31), dt.date(2022, 1, 1))
ooit = st.dates(dt.date(2016, 1, 1), dt.date(2026, 11, 20))
peildata = st.one_of(st.sampled_from(PEILDATA), st.sampled_from(PEILDATA), ooit)


@dataclass(frozen=True)
class Randen:
    """The days on and beside where windows end (for a period's begin) and begin (its end)."""

    begin: tuple[dt.date, ...]
    eind: tuple[dt.date, ...]


def randen_van(peildata: list[dt.date]) -> Randen:
    def rond(dagen):
        return tuple(sorted({d + v for d in dagen for v in (-EEN_DAG, dt.timedelta(0), EEN_DAG)}))

    return Randen(begin=rond(peildata), eind=rond(min_twee_jaar(p) for p in peildata))


def vaak_op_rand(randen: list[dt.date], anders: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(randen), st.sampled_from(randen), anders) if randen else anders


verplicht = st.text(alphabet="ab é'=+-@;\"\t\r\n,", min_size=1, max_size=6)
body = st.none() | verplicht


@st.composite
def perioden(draw, randen: Randen) -> tuple[dt.date, dt.date | None]:
    """A period that begins on or beside a window's last day or ends on or beside its first."""
    if draw(st.booleans()):
        begin = draw(vaak_op_rand(randen.begin, ooit))
        return begin, draw(st.none() | st.dates(begin, dt.date(2027, 12, 31)))
    eind = draw(vaak_op_rand(randen.eind, ooit))
    return draw(st.dates(dt.date(2010, 1, 1), eind)), eind


@dataclass(frozen=True)
class Lks:
    period: tuple[dt.date, dt.date | None]
    percentage: float | None


@dataclass(frozen=True)
class Inzet:
    period: tuple[dt.date, dt.date | None]
    lks: tuple[Lks, ...]


@dataclass(frozen=True)
class Dkd:
    doelgroepen: tuple[tuple[str, tuple[dt.date, dt.date | None]], ...]
    inzetten: tuple[Inzet, ...]


def dkd_clients(randen: Randen) -> st.SearchStrategy[Dkd]:
    return st.builds(
        Dkd,
        doelgroepen=st.lists(st.tuples(st.sampled_from(CODES), perioden(randen)), max_size=2).map(
            tuple
        ),
        inzetten=st.lists(
            st.builds(
                Inzet,
                period=perioden(randen),
                lks=st.lists(
                    st.builds(Lks, perioden(randen), st.none() | st.sampled_from([30.0, 72.5])),
                    max_size=2,
                ).map(tuple),
            ),
            max_size=2,
        ).map(tuple),
    )


@dataclass(frozen=True)
class Event:
    uwv_kenmerk: str
    berichttype: str
    bsn: str
    geboortedatum: dt.date
    achternaam: str | None
    voorvoegsel: str | None
    voorletters: str | None
    naam_administratieve_eenheid: str | None
    loonheffingennummer: str | None
    datum_eerste_ao_dag: dt.date | None
    datum_einde_arbeidsverhouding: dt.date | None
    datum_einde_uitkeringsverhouding: dt.date | None
    begindatum_zw_uitkering: dt.date | None
    einddatum_zw_uitkering: dt.date | None

    @property
    def peildatum(self) -> dt.date:
        """rules 5.2: einde arbeidsverhouding for ZIEK_UIT_DIENST, else begindatum ZW."""
        if self.berichttype == "ZIEK_UIT_DIENST":
            return self.datum_einde_arbeidsverhouding
        return self.begindatum_zw_uitkering


@st.composite
def events(draw, kenmerk: str) -> Event:
    """One event as the UWV feed's validation lets it through (rules 4.1)."""
    ziek_uit_dienst = draw(st.booleans())
    gemeen = {
        "uwv_kenmerk": kenmerk,
        "bsn": draw(st.sampled_from(BSNS)),
        "geboortedatum": draw(st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31))),
        # EINDE_ZW needs achternaam and voorletters; ZIEK_UIT_DIENST may lack them.
        "achternaam": draw(verplicht if not ziek_uit_dienst else body),
        "voorvoegsel": draw(body),
        "voorletters": draw(verplicht if not ziek_uit_dienst else body),
        "naam_administratieve_eenheid": draw(body),
        "loonheffingennummer": draw(body),
    }
    if ziek_uit_dienst:
        einde = draw(peildata)
        return Event(
            berichttype="ZIEK_UIT_DIENST",
            datum_eerste_ao_dag=draw(st.dates(dt.date(2015, 1, 1), einde)),
            datum_einde_arbeidsverhouding=einde,
            datum_einde_uitkeringsverhouding=draw(st.none() | ooit),
            begindatum_zw_uitkering=None,
            einddatum_zw_uitkering=None,
            **gemeen,
        )
    begin = draw(peildata)
    return Event(
        berichttype="EINDE_ZW",
        datum_eerste_ao_dag=None,
        datum_einde_arbeidsverhouding=None,
        datum_einde_uitkeringsverhouding=None,
        begindatum_zw_uitkering=begin,
        einddatum_zw_uitkering=draw(st.none() | st.dates(begin, dt.date(2027, 12, 31))),
        **gemeen,
    )


@st.composite
def dag_events(draw, minimum: int) -> tuple[Event, ...]:
    """A day's file: unique kenmerken within it (a repeat is quarantined), shared across days."""
    kenmerken = draw(
        st.lists(st.sampled_from(KENMERKEN), min_size=minimum, max_size=6, unique=True)
    )
    return tuple(draw(events(k)) for k in kenmerken)


@dataclass(frozen=True)
class Inbox:
    verwijsindex: frozenset[tuple[str, str]]
    dkd: dict[tuple[str, str], Dkd] = field(hash=False)
    dagen: dict[dt.date, tuple[Event, ...]] = field(hash=False)

    def geleverd(self, gemeentecode: str) -> set[str]:
        """The BSNs a gemeente delivered itself, in its verwijsindex or its DKD data."""
        return {b for g, b in self.verwijsindex | self.dkd.keys() if g == gemeentecode}


paren = st.tuples(st.sampled_from(GEMEENTEN), st.sampled_from(BSNS))


@st.composite
def inboxen(draw) -> Inbox:
    dagen = {VORIGE: draw(dag_events(0)), DAG: draw(dag_events(1))}
    all_lines = [e for events in dagen.values() for e in events]
    clients = sorted(draw(st.frozensets(paren, max_size=8)))
    return Inbox(
        verwijsindex=draw(st.frozensets(paren, max_size=10)),
        dkd={
            (g, bsn): draw(
                dkd_clients(randen_van([e.peildatum for e in all_lines if e.bsn == bsn]))
            )
            for g, bsn in clients
        },
        dagen=dagen,
    )


# ---------------------------------------------------------------------------------------------
# The warehouse, loaded as the ingest assets store it.


GELADEN = (
    "verwijsindex",
    "dkd_reintegratie",
    "dkd_doelgroepen",
    "dkd_inzetten",
    "dkd_loonkostensubsidies",
    "uwv_events",
    "signalen",
)


@cache
def warehouse(name: str) -> duckdb.DuckDBPyConnection:
    """A warehouse in memory with its schema and the register: made once, emptied per inbox."""
    conn = duckdb.connect()
    ensure_schema(conn)
    conn.executemany(
        "INSERT INTO doelgroepregister_codes VALUES (?, ?)",
        [(c["code"], c["doelgroep"]) for c in doelgroepregister_codes()],
    )
    return conn


def load(inbox: Inbox, omgekeerd: bool = False) -> duckdb.DuckDBPyConnection:
    """A warehouse holding only `inbox`; `omgekeerd` inserts every table's rows backwards."""
    conn = warehouse("omgekeerd" if omgekeerd else "gewoon")
    for table in GELADEN:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608

    def insert(table: str, rows: list[tuple]) -> None:
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            rows = rows[::-1] if omgekeerd else rows
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608

    insert(
        "verwijsindex",
        [
            (g, b, "Participatiewet", VORIGE, f"verwijsindex_{g}.csv")
            for g, b in sorted(inbox.verwijsindex)
        ],
    )
    reintegratie, doelgroepen, inzetten, lks = [], [], [], []
    for (g, b), client in sorted(inbox.dkd.items()):
        reintegratie.append((g, b, "bestand", VORIGE, "0200", VORIGE, f"dkd_{g}.xml", 1))
        for code, (begin, eind) in client.doelgroepen:
            doelgroepen.append((g, b, "bestand", code, begin, eind))
        for nr, inzet in enumerate(client.inzetten, 1):
            inzetten.append((g, b, "bestand", nr, "Werkplek", *inzet.period))
            for regeling in inzet.lks:
                lks.append((g, b, "bestand", nr, *regeling.period, regeling.percentage, None))
    insert("dkd_reintegratie", reintegratie)
    insert("dkd_doelgroepen", doelgroepen)
    insert("dkd_inzetten", inzetten)
    insert("dkd_loonkostensubsidies", lks)
    uwv = []
    for dag, dag_events in inbox.dagen.items():
        for regel, e in enumerate(dag_events, 2):
            uwv.append(
                (
                    dag, regel, e.uwv_kenmerk, e.berichttype, e.bsn, e.geboortedatum,
                    e.achternaam, e.voorvoegsel, e.voorletters, e.naam_administratieve_eenheid,
                    e.loonheffingennummer, True, e.datum_eerste_ao_dag,
                    e.datum_einde_arbeidsverhouding, e.datum_einde_uitkeringsverhouding,
                    e.begindatum_zw_uitkering, e.einddatum_zw_uitkering, f"uwv_lks_{dag:%Y%m%d}.csv",
                )
            )  # fmt: skip
    insert("uwv_events", uwv)
    return conn


def verwerk(conn: duckdb.DuckDBPyConnection) -> dict[str, bytes]:
    """Both days' signals in order, then the second day's reports by file name."""
    for dag in (VORIGE, DAG):
        compute_signalen(conn, dag)
    return {r.bestand: r.content for r in signaalrapport.rapporten(conn, DAG)}


# ---------------------------------------------------------------------------------------------
# The model: rules 5 in plain Python, one event at a time.


def overlapt(period: tuple[dt.date, dt.date | None], van: dt.date, tot: dt.date) -> bool:
    begin, eind = period
    return begin <= tot and (eind is None or eind >= van)


@dataclass(frozen=True)
class Uitkomst:
    regel: int
    gemeentecode: str | None
    uitkomst: str
    zekerheid: int | None


def model(inbox: Inbox, dag: dt.date, eerder_gemeld: set[str]) -> set[Uitkomst]:
    uitkomsten = set()
    for regel, e in enumerate(inbox.dagen[dag], 2):
        gemeenten = sorted(g for g in GEMEENTEN if e.bsn in inbox.geleverd(g))
        if not gemeenten:
            uitkomsten.add(Uitkomst(regel, None, "niet_routeerbaar", None))
        peil = e.peildatum
        van = min_twee_jaar(peil)
        for g in gemeenten:
            client = inbox.dkd.get((g, e.bsn), Dkd((), ()))
            if any(
                lks.percentage is not None and overlapt(lks.period, van, peil)
                for inzet in client.inzetten
                for lks in inzet.lks
            ):
                zekerheid = 1
            elif client.inzetten:
                zekerheid = 2
            else:
                zekerheid = 3
            in_populatie = any(
                code in REGISTER and overlapt(period, van, peil)
                for code, period in client.doelgroepen
            )
            if e.uwv_kenmerk in eerder_gemeld:
                uitkomst = "dubbel"
            elif e.berichttype == "EINDE_ZW" and e.begindatum_zw_uitkering >= WETSWIJZIGING:
                uitkomst = "na_wetswijziging_2022"
            elif client.doelgroepen and not in_populatie:
                uitkomst = "buiten_doelgroep"
            else:
                uitkomst = "gemeld"
            uitkomsten.add(Uitkomst(regel, g, uitkomst, zekerheid))
    return uitkomsten


def date_cell(d: dt.date | None) -> str:
    return "" if d is None else d.strftime("%d-%m-%Y")


def cel(text: str | None) -> str:
    """A text cell as rules 6.1 wants it in Excel: a formula-like start gets a `'`."""
    if text is None:
        return ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rapportregel(e: Event, zekerheid: int) -> list[str]:
    if e.berichttype == "ZIEK_UIT_DIENST":
        return [
            e.bsn,
            date_cell(e.datum_einde_uitkeringsverhouding),
            date_cell(e.datum_einde_arbeidsverhouding),
            date_cell(e.datum_eerste_ao_dag),
        ]
    einde = e.einddatum_zw_uitkering or e.begindatum_zw_uitkering + dt.timedelta(weeks=104, days=-1)
    return [
        e.bsn,
        date_cell(e.geboortedatum),
        cel(e.achternaam),
        cel(e.voorvoegsel),
        cel(e.voorletters),
        cel(e.naam_administratieve_eenheid),
        cel(e.loonheffingennummer),
        ZEKERHEID_OMSCHRIJVING[zekerheid],
        "",
        date_cell(e.begindatum_zw_uitkering),
        "",
        date_cell(einde),
    ]


def verwachte_rapporten(inbox: Inbox, uitkomsten: set[Uitkomst]) -> dict[str, list[list[str]]]:
    """File name to rows (header first) of every report the day must have, per the model."""
    rapporten: dict[str, list[tuple]] = {}
    for u in uitkomsten:
        if u.uitkomst != "gemeld":
            continue
        e = inbox.dagen[DAG][u.regel - 2]
        product = REINTEGRATIE if e.berichttype == "ZIEK_UIT_DIENST" else EINDE_ZW
        name = product.file_name(u.gemeentecode, DAG)
        rapporten.setdefault(name, [product.header]).append(
            ((e.bsn, e.uwv_kenmerk), rapportregel(e, u.zekerheid))
        )
    return {
        name: [header, *(row for _, row in sorted(rows))]
        for name, (header, *rows) in rapporten.items()
    }


def lees_rapport(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def uitkomsten_in(conn: duckdb.DuckDBPyConnection, dag: dt.date) -> set[Uitkomst]:
    rows = conn.execute(
        "SELECT regel, gemeentecode, uitkomst, zekerheid FROM signalen WHERE leverdatum = ?", [dag]
    ).fetchall()
    assert len(rows) == len(set(rows)), "an (event, gemeente) has two rows"
    return {Uitkomst(*r) for r in rows}


# ---------------------------------------------------------------------------------------------
# The properties.

# A second per inbox, far above the ~0.15 s one takes, so that the long profile is not cut off
# by the suite's 300 s limit and a hang is still caught.
pytestmark = [pytest.mark.timeout(max(300, settings().max_examples)), pytest.mark.slow]


@given(inboxen())
def test_any_inbox_is_routed_privately_exactly_and_reproducibly(inbox):
    conn = load(inbox)
    rapporten = verwerk(conn)

    # No gemeente receives a BSN it did not deliver: not in a report, not in a signal.
    for name, content in rapporten.items():
        bsns = {row[0] for row in lees_rapport(content)[1:]}
        assert bsns <= inbox.geleverd(name[:6]), name
    for gemeentecode, bsn in conn.execute(
        "SELECT gemeentecode, bsn FROM signalen WHERE gemeentecode IS NOT NULL"
    ).fetchall():
        assert bsn in inbox.geleverd(gemeentecode)

    # Every event has exactly the model's outcomes and zekerheid, on both days.
    previous_place = model(inbox, VORIGE, set())
    assert uitkomsten_in(conn, VORIGE) == previous_place
    gemeld = {
        inbox.dagen[VORIGE][u.regel - 2].uwv_kenmerk
        for u in previous_place
        if u.uitkomst == "gemeld"
    }
    vandaag = model(inbox, DAG, gemeld)
    assert uitkomsten_in(conn, DAG) == vandaag

    # Each report holds exactly its gemeente's gemeld rows of its product; no other report exists.
    expected = verwachte_rapporten(inbox, vandaag)
    assert sorted(rapporten) == sorted(expected)
    for name, content in rapporten.items():
        assert lees_rapport(content) == expected[name], name

    # The day again, and the same inbox stored in the opposite order: the same bytes.
    compute_signalen(conn, DAG)
    assert {r.bestand: r.content for r in signaalrapport.rapporten(conn, DAG)} == rapporten
    assert verwerk(load(inbox, omgekeerd=True)) == rapporten
