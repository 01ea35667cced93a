"""Aanleveren and DKD instellingen in the portal (rules 8.2): checked at once, placed atomically.

Every upload goes through Django's test client with the portal's own upload handler, into a
real inbox on disk; expectations are written from the spec (rules 4.2, 4.4, 4.5, 6.3).
"""

import datetime as dt
import re
import threading

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lks_pipeline.core.warehouse import ensure_schema
from lks_pipeline.ingest import csv_feeds
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.portaal import instellingen
from lks_pipeline.portaal.models import Aanlevering, AuditRegel
from lks_pipeline_tests.conftest import dkd_xml
from lks_pipeline_tests.test_portaal import ALLE, RI, gebruiker, ingelogd

pytestmark = pytest.mark.django_db

GOED, ONGELDIG = "111222333", "123456789"  # elfproef: valid, invalid
VERWIJSINDEX = f"bsn;cluster\n{GOED};Reintegratie\n{ONGELDIG};Reintegratie\n{GOED};Reintegratie\n"
INSTELLINGEN = (
    "gemeentecode;aanlevermethode;berichtversie;url;leverfrequentie;notificatie_email\n"
    "GM0363;verzamelbestand;GSDDossierReintegratie-v0200;;maandelijks;lks@gm0363.example.nl\n"
    "GM0599;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;lks@gm0599.example.nl\n"
)


@pytest.fixture(autouse=True)
def root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    settings.ANALYSE_PATH = tmp_path / "warehouse" / "lks_analyse.duckdb"
    (tmp_path / "inbox" / "dkd").mkdir(parents=True)
    (tmp_path / "inbox" / "dkd" / "dkd_instellingen_20261118.csv").write_text(INSTELLINGEN)
    return tmp_path


def vandaag() -> str:
    return f"{timezone.localdate():%Y%m%d}"


def lever(client, soort: str, inhoud: str | bytes, naam: str = "upload.csv", follow=True):
    data = inhoud.encode() if isinstance(inhoud, str) else inhoud
    bestand = SimpleUploadedFile(naam, data, content_type="text/csv")
    return client.post("/aanleveren/", {"soort": soort, "bestand": bestand}, follow=follow)


def inbox_files(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root / "inbox")): p.read_bytes()
        for p in sorted((root / "inbox").rglob("*"))
        if p.is_file()
    }


def test_an_accepted_verwijsindex_lands_under_its_canonical_name_with_its_quarantine(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    page = lever(client, "verwijsindex", VERWIJSINDEX, naam="verwijsindex_GM0599_20200101.csv")
    text = page.content.decode()
    naam = f"verwijsindex_GM0363_{vandaag()}.csv"
    assert (root / "inbox" / "verwijsindex" / naam).read_text() == VERWIJSINDEX
    assert not (root / "inbox" / "verwijsindex" / "verwijsindex_GM0599_20200101.csv").exists()
    assert f"{naam} is ontvangen: 1 regel(s) worden geladen, 2 in quarantaine." in text
    assert "Quarantaine: 1 regel(s): bsn: geen geldig BSN (9 cijfers, elfproef)" in text
    assert "Regel 3, BSN ******789: bsn: geen geldig BSN (9 cijfers, elfproef)" in text
    assert "Regel 4, BSN ******333: dezelfde bsn en cluster komt eerder in het bestand voor" in text
    assert ONGELDIG not in text
    assert GOED not in text
    row = re.search(rf"<tr><td>{naam}</td>(.*?)</tr>", text, re.S)[1]
    assert re.findall(r"<td>([^<]*)</td>", row)[:3] == [
        "Verwijsindex", timezone.localdate().strftime("%d-%m-%Y"), "ontvangen"]  # fmt: skip
    assert list(AuditRegel.objects.values_list("actie", "resultaat", "object")) == [
        ("aanleveren", "gelukt", naam)]  # fmt: skip
    assert not list((root / "portaal" / "ontvangst").iterdir())  # nothing left in staging
    assert not re.search(r"\d{9}", str(list(AuditRegel.objects.values_list())))


def test_a_file_level_rejection_names_the_line_and_leaves_the_inbox_as_it_was(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    voor = inbox_files(root)
    page = lever(client, "verwijsindex", f"bsn,cluster\n{GOED},Reintegratie\n").content.decode()
    assert "Het bestand is afgewezen en niet aangeleverd." in page
    assert (
        f"verwijsindex_GM0363_{vandaag()}.csv, regel 1: scheidingsteken is niet &#x27;;&#x27;"
        in page
    )
    assert inbox_files(root) == voor
    assert not Aanlevering.objects.exists()
    assert AuditRegel.objects.get().resultaat == "afgewezen"
    assert not list((root / "portaal" / "ontvangst").iterdir())


def test_a_dkd_file_of_another_gemeente_is_refused_never_stored_under_it(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    clients = f"<Client><BSN>{GOED}</BSN></Client>"
    xml = dkd_xml("GM0599", clients)
    page = lever(client, "dkd", xml, naam="dkd_reintegratie_GM0599_20261201.xml").content.decode()
    assert "Stuurgegevens noemen gemeente GM0599, de bestandsnaam GM0363" in page
    assert not list((root / "inbox").rglob("*.xml"))
    accepted = lever(client, "dkd", dkd_xml("GM0363", clients), naam="x.xml").content.decode()
    assert "0 in quarantaine" in accepted
    assert [p.name for p in (root / "inbox" / "dkd").glob("*.xml")] == [
        f"dkd_reintegratie_GM0363_{vandaag()}.xml"]  # fmt: skip


def test_a_second_upload_of_the_day_replaces_the_first_and_says_so(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    lever(client, "verwijsindex", VERWIJSINDEX)
    tweede = f"bsn;cluster\n{GOED};Uitkeringen\n"
    page = lever(client, "verwijsindex", tweede).content.decode()
    assert "Het vervangt het bestand dat u vandaag eerder aanleverde." in page
    assert (
        root / "inbox" / "verwijsindex" / f"verwijsindex_GM0363_{vandaag()}.csv"
    ).read_text() == tweede
    statuses = re.findall(r"<td>Verwijsindex</td><td>[^<]*</td><td>([a-z]+)</td>", page)
    assert statuses == ["ontvangen", "vervangen"]
    assert list(AuditRegel.objects.values_list("resultaat", flat=True)) == ["gelukt", "vervangen"]


def test_a_file_over_the_cap_is_not_received(root, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    groot = "bsn;cluster\n" + f"{GOED};Reintegratie\n" * 200
    page = lever(client, "verwijsindex", groot).content.decode()
    assert "Het bestand is groter dan 0 MB en is niet ontvangen." in page
    assert not (root / "inbox" / "verwijsindex").exists()
    assert not list((root / "portaal" / "ontvangst").iterdir())
    assert AuditRegel.objects.get().resultaat == "te groot"


def test_mijn_aanleveringen_shows_the_pipelines_status_and_counts(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    lever(client, "verwijsindex", VERWIJSINDEX)
    naam = f"verwijsindex_GM0363_{vandaag()}.csv"
    sha = Aanlevering.objects.get().sha256
    (root / "warehouse").mkdir()
    with duckdb.connect(str(root / "warehouse" / "lks_analyse.duckdb")) as conn:
        ensure_schema(conn)
        conn.executemany(
            "INSERT INTO leveringen VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?, ?, NULL, ?, now())",
            [
                ("verwijsindex", naam, "GM0363", timezone.localdate(), sha, "geladen", 1, 2, None),
                ("dkd_reintegratie", "dkd_reintegratie_GM0363_20261110.xml", "GM0363",
                 dt.date(2026, 11, 10), "x", "afgewezen", 0, 0, "XML is niet well-formed"),
                ("verwijsindex", "verwijsindex_GM0599_20261110.csv", "GM0599",
                 dt.date(2026, 11, 10), "y", "geladen", 9, 0, None),
            ],
        )  # fmt: skip
    page = client.get("/aanleveren/").content.decode()
    rows = [re.findall(r"<td>([^<]*)</td>", r) for r in re.findall(r"<tr><td>.*?</tr>", page)]
    assert [r[:7] for r in rows] == [
        [naam, "Verwijsindex", timezone.localdate().strftime("%d-%m-%Y"), "geladen", "1", "2", ""],
        ["dkd_reintegratie_GM0363_20261110.xml", "DKD verzamelbestand", "10-11-2026", "afgewezen",
         "0", "0", "XML is niet well-formed"],
    ]  # fmt: skip
    assert rows[0][7] == "piet"
    assert "GM0599" not in page


def test_instellingen_save_as_a_national_snapshot_with_old_and_new_in_the_audit(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    url = "https://dkd.gm0363.example.nl/reintegratie/GSDDossierReintegratie-v0200"
    response = client.post("/dkd-instellingen/", {
        "aanlevermethode": "webservice", "berichtversie": "GSDDossierReintegratie-v0200",
        "url": url, "leverfrequentie": "", "notificatie_email": "dkd@gm0363.example.nl",
    })  # fmt: skip
    assert response.status_code == 302
    snapshot = root / "inbox" / "dkd" / f"dkd_instellingen_{vandaag()}.csv"
    assert snapshot.read_text() == (
        "gemeentecode;aanlevermethode;berichtversie;url;leverfrequentie;notificatie_email\n"
        f"GM0363;webservice;GSDDossierReintegratie-v0200;{url};;dkd@gm0363.example.nl\n"
        "GM0599;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;lks@gm0599.example.nl\n"
    )
    assert list(AuditRegel.objects.values_list("object", flat=True)) == [
        "aanlevermethode: verzamelbestand -> webservice",
        f"url: (leeg) -> {url}",
        "leverfrequentie: maandelijks -> (leeg)",
        "notificatie_email: lks@gm0363.example.nl -> dkd@gm0363.example.nl",
    ]
    page = client.get("/dkd-instellingen/").content.decode()
    assert f'value="{url}"' in page


@pytest.mark.parametrize(
    ("velden", "reden"),
    [
        ({"aanlevermethode": "webservice", "url": "http://10.253.88.20:8080/berichten/GSDDossierReintegratie-v0200"},
         "url: een webservice-url begint met https://"),
        ({"aanlevermethode": "webservice", "url": "https://dkd.example.nl/berichten"},
         "url: eindigt niet op /GSDDossierReintegratie-v0200, de berichtversie"),
        ({"aanlevermethode": "webservice", "url": ""}, "url: ontbreekt (verplicht bij webservice)"),
        ({"url": "https://dkd.example.nl/GSDDossierReintegratie-v0200"},
         "url: alleen in te vullen bij webservice"),
        ({"leverfrequentie": ""}, "leverfrequentie: ontbreekt (verplicht bij verzamelbestand)"),
        ({"notificatie_email": "geen adres"}, "Voer een geldig e-mailadres in."),
    ],
)  # fmt: skip
def test_bad_instellingen_are_refused_with_the_reason_and_write_nothing(root, velden, reden):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    voor = inbox_files(root)
    data = {
        "aanlevermethode": "verzamelbestand", "berichtversie": "GSDDossierReintegratie-v0200",
        "url": "", "leverfrequentie": "maandelijks", "notificatie_email": "a@gm0363.example.nl",
        **velden,
    }  # fmt: skip
    page = client.post("/dkd-instellingen/", data)
    assert page.status_code == 200
    assert reden in page.content.decode()
    assert inbox_files(root) == voor
    assert not AuditRegel.objects.exists()


def test_without_dkd_aanleveren_instellingen_are_read_only_and_aanleveren_is_not_there(root):
    client = ingelogd(gebruiker("kees", "GM0363", (RI,)))
    page = client.get("/dkd-instellingen/").content.decode()
    assert "Opslaan" not in page
    assert 'value="lks@gm0363.example.nl"' in page
    assert "disabled" in page
    assert ">Aanleveren<" not in page
    assert client.post("/dkd-instellingen/", {"aanlevermethode": "webservice"}).status_code == 404
    assert client.get("/aanleveren/").status_code == 404
    assert inbox_files(root) == {"dkd/dkd_instellingen_20261118.csv": INSTELLINGEN.encode()}


def test_an_outdated_berichtversie_is_saved_with_a_warning(root):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    page = client.post("/dkd-instellingen/", {
        "aanlevermethode": "verzamelbestand", "berichtversie": "GSDDossierReintegratie-v0100",
        "url": "", "leverfrequentie": "maandelijks", "notificatie_email": "lks@gm0363.example.nl",
    }, follow=True).content.decode()  # fmt: skip
    assert "Berichtversie GSDDossierReintegratie-v0100 is verouderd" in page
    assert "GM0363;verzamelbestand;GSDDossierReintegratie-v0100;" in (
        root / "inbox" / "dkd" / f"dkd_instellingen_{vandaag()}.csv").read_text()  # fmt: skip


def test_simultaneous_saves_of_many_gemeenten_all_survive_in_the_newest_snapshot(root):
    codes = ["GM0363", "GM0599", "GM0014", "GM0034", "GM0153", "GM0344", "GM0518", "GM0772"]
    start = threading.Barrier(len(codes))
    errors = []

    def save(code: str) -> None:
        nieuw = instellingen.Instelling(
            "verzamelbestand", "GSDDossierReintegratie-v0200", None, "wekelijks",
            f"nieuw@{code.lower()}.example.nl",
        )  # fmt: skip
        start.wait()
        try:
            instellingen.sla_op(
                root / "inbox", root / "geen_kopie.duckdb", root / "portaal" / "lock", code,
                nieuw, dt.date(2026, 12, 2),
            )  # fmt: skip
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(code,)) for code in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pad = root / "inbox" / "dkd" / "dkd_instellingen_20261202.csv"
    read = csv_feeds.read_instellingen(
        Levering("dkd_instellingen", pad, dt.date(2026, 12, 2), None, 0, 0)
    )
    assert read.quarantaine == []
    rows = read.tables["dkd_instellingen"].set_index("gemeentecode")["notificatie_email"]
    assert rows.to_dict() == {code: f"nieuw@{code.lower()}.example.nl" for code in sorted(codes)}
    assert sorted(p.name for p in (root / "inbox" / "dkd").iterdir()) == [
        "dkd_instellingen_20261118.csv", "dkd_instellingen_20261202.csv"]  # fmt: skip
