"""rules 6.3: every fouttype from a hand-written inbox, with exact aantallen; a clean inbox has none.

Day evaluated: 2026-11-20. Each gemeente below is clean except for the one problem named:

| gemeente | instellingen | verwijsindex | DKD | expected |
|---|---|---|---|---|
| GM0363 | wekelijks v0200 | 15-11 | 18-11 clean | nothing |
| GM0599 | wekelijks | 15-11 | 05-11 (15 days: > 7 + 7) | GEEN_AANLEVERING 1 |
| GM0772 | maandelijks | 15-11 | never | GEEN_AANLEVERING 1 |
| GM0518 | webservice, closed port | 15-11, holds the day's BSN | - | WEBSERVICE_ONBEREIKBAAR 1 |
| GM0014 | wekelijks | never | 18-11 | VERWIJSINDEX_ONTBREEKT 1 |
| GM0034 | wekelijks | 10-10 (41 days: > 35) | 18-11 | VERWIJSINDEX_VEROUDERD 1 |
| GM0153 | wekelijks | 15-11, 1 of 3 DKD BSNs | 18-11, 3 Clients | VERWIJSINDEX_ONVOLLEDIG 2 |
| GM0344 | wekelijks | 15-11 | 18-11, 2 of 3 Clients bad | BERICHT_ONGELDIG 2 |
| GM0037 | wekelijks | 15-11 | 12-11 ok, 19-11 not XML | BERICHT_ONGELDIG 1 |
| GM0047 | v0100 | 15-11 | 18-11 v0100 | BERICHTVERSIE_VEROUDERD 2 |
| GM0050 | webservice, url ends /v0100 | 15-11, no BSN of the day | - | URL_VERSIE_MISMATCH 1 |
| GM0059 | wekelijks | 15-11 | 18-11, 2 LKS without % | LOONWAARDE_ONTBREEKT 2 |
| GM0060 | wekelijks | 15-11, 1 invalid BSN | 18-11, 1 Client invalid BSN | BSN_ONGELDIG 2, BERICHT_ONGELDIG 1 |
| GM0072 | none | 15-11 | 18-11 | INSTELLINGEN_ONTBREKEN 1 |
| GM0074 | no notificatie_email | 15-11 | 18-11 | INSTELLINGEN_ONTBREKEN 1 |
"""

import datetime as dt
import socket
from itertools import count

import dagster as dg
import duckdb
import pytest
from stdnum.nl import bsn as stdnum_bsn

from lks_pipeline.aanleverfouten import assets as aanleverfouten
from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.webservice import assets as webservice
from lks_pipeline.webservice.resources import DkdWebservice
from lks_pipeline_tests.conftest import (
    INSTELLINGEN_HEADER,
    NS_V0100,
    UWV_HEADER,
    dkd_xml,
    ingest,
    materializer,
    write,
)
from lks_pipeline_tests.test_signalen import client

DAG = "2026-11-20"
V2 = "GSDDossierReintegratie-v0200"
V1 = "GSDDossierReintegratie-v0100"
ONGELDIG_BSN = "123456789"


def bsns():
    """Valid BSNs, in order, none of them in any other test's inbox by design of the range."""
    for n in count(200000000):
        if stdnum_bsn.is_valid(f"{n:09d}"):
            yield f"{n:09d}"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instelling(
    gemeente, methode="verzamelbestand", version=V2, url="", frequentie="wekelijks", email=None
):
    email = f"lks@{gemeente.lower()}.example.nl" if email is None else email
    return f"{gemeente};{methode};{version};{url};{frequentie};{email}\n"


def build(root, *, alleen_schoon=False):
    inbox = root / "inbox"
    new_files = bsns()

    def vi(gemeente, datum, nummers):
        rows = "".join(f"{b};Reintegratie\n" for b in nummers)
        write(
            inbox / "verwijsindex" / f"verwijsindex_{gemeente}_{datum}.csv", "bsn;cluster\n" + rows
        )

    def dkd(gemeente, datum, clients, ns=None):
        xml = dkd_xml(gemeente, clients) if ns is None else dkd_xml(gemeente, clients, ns=ns)
        write(inbox / "dkd" / f"dkd_reintegratie_{gemeente}_{datum}.xml", xml)

    def cleaned_folders(gemeente, vi_datum="20261115", dkd_datum="20261118"):
        a = next(new_files)
        if vi_datum:
            vi(gemeente, vi_datum, [a])
        if dkd_datum:
            dkd(
                gemeente,
                dkd_datum,
                client(a, [("01", "2015-01-01", None)], ("2024-01-01", None), "50.0"),
            )
        return a

    instellingen = [instelling("GM0363")]
    cleaned_folders("GM0363")
    event_bsn = cleaned_folders("GM0363")  # GM0363 knows the day's person too, as zekerheid 1
    instellingen.append(instelling("GM0599"))
    cleaned_folders("GM0599", dkd_datum="20261118" if alleen_schoon else "20261105")
    if not alleen_schoon:
        instellingen.append(instelling("GM0772", frequentie="maandelijks"))
        cleaned_folders("GM0772", dkd_datum=None)
        instellingen.append(
            instelling(
                "GM0518",
                "webservice",
                url=f"http://127.0.0.1:{closed_port()}/dkd/{V2}",
                frequentie="",
            )
        )
        vi("GM0518", "20261115", [event_bsn])
        instellingen.append(instelling("GM0014"))
        cleaned_folders("GM0014", vi_datum=None)
        instellingen.append(instelling("GM0034"))
        cleaned_folders("GM0034", vi_datum="20261010")
        instellingen.append(instelling("GM0153"))
        c, d, e = next(new_files), next(new_files), next(new_files)
        vi("GM0153", "20261115", [c])
        dkd(
            "GM0153",
            "20261118",
            "".join(client(b, [("01", "2015-01-01", None)]) for b in (c, d, e)),
        )
        instellingen.append(instelling("GM0344"))
        f, g, h = next(new_files), next(new_files), next(new_files)
        vi("GM0344", "20261115", [f, g, h])
        dkd(
            "GM0344",
            "20261118",
            client(f, [("01", "2015-01-01", None)], ("2024-01-01", None), "50.0")
            + client(g, [("01", "2015-01-01", None)], ("2024-01-01", None), "150.0")
            + client(h, [("01", "2015-01-01", None)], ("2024-01-01", "2023-01-01"), "50.0"),
        )
        instellingen.append(instelling("GM0037"))
        cleaned_folders("GM0037", dkd_datum="20261112")
        write(
            inbox / "dkd" / "dkd_reintegratie_GM0037_20261119.xml",
            dkd_xml("GM0037", "")[:-30],  # cut off: not well-formed
        )
        instellingen.append(instelling("GM0047", version=V1))
        k = next(new_files)
        vi("GM0047", "20261115", [k])
        dkd("GM0047", "20261118", client(k, [("01", "2015-01-01", None)]), ns=NS_V0100)
        instellingen.append(
            instelling(
                "GM0050", "webservice", url="https://gm0050.example.nl/dkd/v0100", frequentie=""
            )
        )
        vi("GM0050", "20261115", [next(new_files)])
        instellingen.append(instelling("GM0059"))
        m, n = next(new_files), next(new_files)
        vi("GM0059", "20261115", [m, n])
        dkd(
            "GM0059",
            "20261118",
            "".join(client(b, [("01", "2015-01-01", None)], ("2024-01-01", None)) for b in (m, n)),
        )
        instellingen.append(instelling("GM0060"))
        p = next(new_files)
        vi("GM0060", "20261115", [p, ONGELDIG_BSN])
        dkd(
            "GM0060",
            "20261118",
            client(p, [("01", "2015-01-01", None)])
            + client(ONGELDIG_BSN, [("01", "2015-01-01", None)]),
        )
        cleaned_folders("GM0072")  # no instellingen row
        instellingen.append(instelling("GM0074", email=""))
        cleaned_folders("GM0074")
    write(
        inbox / "dkd" / "dkd_instellingen_20261101.csv",
        INSTELLINGEN_HEADER + "\n" + "".join(instellingen),
    )
    write(
        inbox / "uwv" / "uwv_lks_20261120.csv",
        f"{UWV_HEADER}\nUWV-1;ZIEK_UIT_DIENST;{event_bsn};1980-01-01;Jansen;;A.;Groen B.V.;"
        "123456789L01;2026-10-01;2026-11-15;;;\n",
    )


def evaluate(root):
    resources = {
        "lks": LksSettings(data_dir=str(root)),
        "duckdb": Warehouse(database=str(root / "warehouse" / "lks.duckdb")),
        "webservice": DkdWebservice(timeout_seconds=0.5, pogingen=2, wachttijd_seconds=0.01),
        "drempels": AanleverfoutenThresholds(),
    }
    gemeenten = sorted({p.name.split("_")[-2] for p in (root / "inbox").rglob("*_GM*_*")})
    with dg.instance_for_test() as instance:
        materialize = materializer(resources, instance)
        ingest(materialize, gemeenten, [DAG])
        result = materialize([webservice.dkd_webservice, aanleverfouten.dkd_aanleverfouten], DAG)
    with duckdb.connect(str(root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT dag, gemeentecode, fouttype, aantal, toelichting FROM dkd_aanleverfouten "
            "ORDER BY gemeentecode, fouttype"
        ).fetchall()
    return rows, result


@pytest.mark.slow
def test_every_fouttype_with_its_exact_aantal(data_root):
    build(data_root)
    rows, result = evaluate(data_root)
    assert {r[0] for r in rows} == {dt.date(2026, 11, 20)}
    assert [(g, f, a) for _, g, f, a, _ in rows] == [
        ("GM0014", "VERWIJSINDEX_ONTBREEKT", 1),
        ("GM0034", "VERWIJSINDEX_VEROUDERD", 1),
        ("GM0037", "BERICHT_ONGELDIG", 1),
        ("GM0047", "BERICHTVERSIE_VEROUDERD", 2),
        ("GM0050", "URL_VERSIE_MISMATCH", 1),
        ("GM0059", "LOONWAARDE_ONTBREEKT", 2),
        ("GM0060", "BERICHT_ONGELDIG", 1),
        ("GM0060", "BSN_ONGELDIG", 2),
        ("GM0072", "INSTELLINGEN_ONTBREKEN", 1),
        ("GM0074", "INSTELLINGEN_ONTBREKEN", 1),
        ("GM0153", "VERWIJSINDEX_ONVOLLEDIG", 2),
        ("GM0344", "BERICHT_ONGELDIG", 2),
        ("GM0518", "WEBSERVICE_ONBEREIKBAAR", 1),
        ("GM0599", "GEEN_AANLEVERING", 1),
        ("GM0772", "GEEN_AANLEVERING", 1),
    ]
    toelichting = {(g, f): t for _, g, f, _, t in rows}
    assert toelichting["GM0599", "GEEN_AANLEVERING"] == (
        "Laatste DKD-verzamelbestand van 05-11-2026 (15 dagen geleden); bij leverfrequentie "
        "wekelijks hoort elke 7 dagen een levering (7 dagen marge)."
    )
    assert toelichting["GM0034", "VERWIJSINDEX_VEROUDERD"] == (
        "De nieuwste verwijsindex (verwijsindex_GM0034_20261010.csv) is van 10-10-2026, 41 dagen "
        "oud; lever minstens elke 35 dagen een nieuwe."
    )
    assert toelichting["GM0050", "URL_VERSIE_MISMATCH"] == (
        "De webservice-url https://gm0050.example.nl/dkd/v0100 eindigt niet op "
        "/GSDDossierReintegratie-v0200, de berichtversie uit uw instellingen."
    )
    assert toelichting["GM0037", "BERICHT_ONGELDIG"].startswith(
        "Het DKD-bestand dkd_reintegratie_GM0037_20261119.xml is afgewezen: XML is niet well-formed"
    )
    assert toelichting["GM0344", "BERICHT_ONGELDIG"] == (
        "2 Client(s) in dkd_reintegratie_GM0344_20261118.xml in quarantaine; eerste reden "
        "(regel 5): Client voldoet niet aan de XSD: waarde buiten bereik bij PercentageLoonwaarde."
    )

    # no BSN anywhere in the table
    text = " ".join(t for *_, t in rows)
    assert ONGELDIG_BSN not in text
    assert not any(c.isdigit() and len(c) == 9 for c in text.split())
    metadata = result.asset_materializations_for_node("dkd_aanleverfouten")[0].metadata
    assert metadata["GEEN_AANLEVERING"].value == 2
    assert metadata["BERICHT_ONGELDIG"].value == 3
    assert metadata["gemeenten met fouten"].value == 14
    trend = metadata["gemeenten per fouttype, laatste 14 dagen"].records
    assert "█" in trend[-1].data["trend"]


def test_a_clean_inbox_has_no_aanleverfouten(data_root):
    build(data_root, alleen_schoon=True)
    rows, result = evaluate(data_root)
    assert rows == []
    metadata = result.asset_materializations_for_node("dkd_aanleverfouten")[0].metadata
    assert metadata["gemeenten met fouten"].value == 0
