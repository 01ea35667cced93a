"""The gemeenteportaal with Django's test client (rules 8): rights, login, downloads, audit.

The portal reads a hand-made analysts' copy (the records of five report files, aanleverfouten,
deliveries) and report files of known bytes: every expectation below is written from the spec.
"""

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import time

import duckdb
import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from lks_pipeline.core.warehouse import ensure_schema
from lks_pipeline.portaal.bronnen import Stand
from lks_pipeline.portaal.dashboard import verwachtingen
from lks_pipeline.portaal.gebruikers import IB_RECHTEN, maak
from lks_pipeline.portaal.models import AuditRegel, Gebruiker, Verborgen

pytestmark = pytest.mark.django_db

RI, EZ = "LKS re-integratie", "LKS einde zw"
HEADER_RI = "BSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;Datum eerste AO-dag"
BSNS = ["111222333", "123456782", "999999990"]
# (gemeentecode, product, leverdatum, file name, BSN in the file)
RAPPORTEN = [
    ("GM0363", RI, dt.date(2026, 11, 17), "GM0363_Re-integratie_signaalrapport_20261117.csv", 0),
    ("GM0363", RI, dt.date(2026, 11, 19), "GM0363_Re-integratie_signaalrapport_20261119.csv", 1),
    ("GM0363", EZ, dt.date(2026, 11, 18), "GM0363_LKS_einde_zw_signaalrapport_20261118.csv", 1),
    ("GM0599", RI, dt.date(2026, 11, 19), "GM0599_Re-integratie_signaalrapport_20261119.csv", 2),
]
GEWIJZIGD = "GM0363_Re-integratie_signaalrapport_20261120.csv"  # changed after publication
RI_0363 = "/ophalen/lks-re-integratie/GM0363_Re-integratie_signaalrapport_20261119.csv"
EZ_0363 = "/ophalen/lks-einde-zw/GM0363_LKS_einde_zw_signaalrapport_20261118.csv"
RI_0599 = "/ophalen/lks-re-integratie/GM0599_Re-integratie_signaalrapport_20261119.csv"


def inhoud(bsn: str) -> bytes:
    return f"\ufeff{HEADER_RI}\r\n{bsn};19-11-2026;18-11-2026;01-10-2026\r\n".encode()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data root with report files and the analysts' copy that records them."""
    root = tmp_path_factory.mktemp("portaal")
    (root / "warehouse").mkdir()
    conn = duckdb.connect(str(root / "warehouse" / "lks_analyse.duckdb"))
    ensure_schema(conn)
    geschreven = dt.datetime(2026, 11, 20, 23, 30)  # UTC: 00:30 on the 21st in Amsterdam
    for code, product, dag, bestand, bsn in [
        *RAPPORTEN,
        ("GM0363", RI, dt.date(2026, 11, 20), GEWIJZIGD, 0),
    ]:
        pad = root / "reports" / code / bestand
        pad.parent.mkdir(parents=True, exist_ok=True)
        pad.write_bytes(inhoud(BSNS[bsn]))
        conn.execute(
            "INSERT INTO signaalrapporten VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            [dag, code, product, bestand, f"reports/{code}/{bestand}",
             hashlib.sha256(inhoud(BSNS[bsn])).hexdigest(), geschreven],
        )  # fmt: skip
    (root / "reports" / "GM0363" / GEWIJZIGD).write_bytes(inhoud(BSNS[0]) + b"111111110;;;\r\n")
    conn.executemany(
        "INSERT INTO dkd_aanleverfouten VALUES (?, ?, ?, ?, ?)",
        [
            (dt.date(2026, 11, 17), "GM0363", "LOONWAARDE_ONTBREEKT", 3, "3 zonder loonwaarde"),
            (dt.date(2026, 11, 18), "GM0363", "LOONWAARDE_ONTBREEKT", 3, "3 zonder loonwaarde"),
            (dt.date(2026, 11, 19), "GM0363", "LOONWAARDE_ONTBREEKT", 2, "2 zonder loonwaarde"),
            (dt.date(2026, 11, 20), "GM0363", "LOONWAARDE_ONTBREEKT", 2, "2 zonder loonwaarde"),
            (dt.date(2026, 11, 18), "GM0363", "BSN_ONGELDIG", 1, "1 ongeldig BSN"),
            (dt.date(2026, 11, 20), "GM0363", "BSN_ONGELDIG", 1, "1 ongeldig BSN"),
            (dt.date(2026, 11, 19), "GM0599", "GEEN_AANLEVERING", 1, "verholpen op de 20e"),
        ],
    )
    conn.close()
    return root


@pytest.fixture(autouse=True)
def portaal(settings, data):
    settings.DATA_ROOT = data
    settings.ANALYSE_PATH = data / "warehouse" / "lks_analyse.duckdb"


def gebruiker(naam, gemeentecode=None, machtigingen=(), rol="medewerker") -> User:
    user = User.objects.create(username=naam, is_staff=gemeentecode is None)
    if gemeentecode is None:
        user.user_permissions.set(Permission.objects.filter(codename__in=IB_RECHTEN))
    else:
        Gebruiker.objects.create(
            user=user, gemeentecode=gemeentecode, rol=rol,
            lks_re_integratie=RI in machtigingen, lks_einde_zw=EZ in machtigingen,
            dkd_aanleveren="DKD aanleveren" in machtigingen,
        )  # fmt: skip
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return user


def ingelogd(user: User | None) -> Client:
    """A browser of `user` after both login steps (or of nobody)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client


ALLE = (RI, EZ, "DKD aanleveren")
ROLLEN = {
    "anoniem": None,
    "zonder": ("GM0363", ()),
    "reintegratie": ("GM0363", (RI,)),
    "eindezw": ("GM0363", (EZ,)),
    "dkd": ("GM0363", ("DKD aanleveren",)),
    "beheerder": ("GM0363", ALLE, "beheerder"),
    "ander": ("GM0599", ALLE, "beheerder"),
    "ib": (None, ()),
}
VERBERG_RI = ("post", "/ophalen/lks-re-integratie/verwijderen/",
              "GM0363_Re-integratie_signaalrapport_20261117.csv")  # fmt: skip
VERBERG_0599 = ("post", "/ophalen/lks-re-integratie/verwijderen/",
                "GM0599_Re-integratie_signaalrapport_20261119.csv")  # fmt: skip
ACTIES = {
    "start": ("get", "/", None),
    "inloggen": ("get", "/inloggen/", None),
    "code": ("get", "/inloggen/code/", None),
    "dashboard": ("get", "/dashboard/", None),
    "ophalen": ("get", "/ophalen/", None),
    "lijst_ri": ("get", "/ophalen/lks-re-integratie/", None),
    "lijst_ez": ("get", "/ophalen/lks-einde-zw/", None),
    "download_ri": ("get", RI_0363, None),
    "download_ez": ("get", EZ_0363, None),
    "download_0599": ("get", RI_0599, None),
    "verberg_ri": VERBERG_RI,
    "verberg_0599": VERBERG_0599,
    "beheer": ("get", "/beheer/", None),
    "beheer_audit": ("get", "/beheer/portaal/auditregel/", None),
    "aanleveren": ("get", "/aanleveren/", None),
    "aanleveren_post": ("post", "/aanleveren/", None),
    "instellingen": ("get", "/dkd-instellingen/", None),
    "instellingen_post": ("post", "/dkd-instellingen/", None),
    "gebruikers": ("get", "/gebruikers/", None),
    "toevoegen": ("get", "/gebruikers/toevoegen/", None),
    "wijzig_0363": ("get", "/gebruikers/lid/", None),
    "wijzig_0599": ("post", "/gebruikers/jan/", None),
    "persoonlijk": ("get", "/persoonlijk/", None),
    "activeren": ("get", "/activeren/Mg/onzin-token/", None),
    "uitloggen": ("post", "/uitloggen/", None),
}
# Expected status per role, in the order of ACTIES. `/` sends everyone on to the dashboard, the
# code step without a password step back to the login, logging out to the login; from anonymous
# every other 302 ends on the login page; after a hide, 302 goes back to the list.
MATRIX = {
    # start, inloggen, code, dashboard, ophalen, lijst ri/ez, download ri/ez/0599, verberg ri/0599,
    # beheer, beheer_audit | aanleveren get/post, instellingen get/post, gebruikers, toevoegen,
    # wijzig 0363/0599, persoonlijk, activeren | uitloggen
    "anoniem":      [302, 200, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302,
                     302, 302, 302, 302, 302, 302, 302, 302, 302, 400, 302],
    "zonder":       [302, 200, 302, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404,
                     404, 404, 200, 404, 404, 404, 404, 404, 200, 400, 302],
    "reintegratie": [302, 200, 302, 200, 200, 200, 404, 200, 404, 404, 302, 404, 404, 404,
                     404, 404, 200, 404, 404, 404, 404, 404, 200, 400, 302],
    "eindezw":      [302, 200, 302, 200, 200, 404, 200, 404, 200, 404, 404, 404, 404, 404,
                     404, 404, 200, 404, 404, 404, 404, 404, 200, 400, 302],
    "dkd":          [302, 200, 302, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404,
                     200, 200, 200, 200, 404, 404, 404, 404, 200, 400, 302],
    "beheerder":    [302, 200, 302, 200, 200, 200, 200, 200, 200, 404, 302, 404, 404, 404,
                     200, 200, 200, 200, 200, 200, 200, 404, 200, 400, 302],
    "ander":        [302, 200, 302, 200, 200, 200, 200, 404, 404, 200, 404, 302, 404, 404,
                     200, 200, 200, 200, 200, 200, 404, 200, 200, 400, 302],
    "ib":           [302, 200, 302, 404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200,
                     404, 404, 404, 404, 404, 404, 404, 404, 404, 400, 302],
}  # fmt: skip
CASES = [(rol, actie, MATRIX[rol][i]) for rol in ROLLEN for i, actie in enumerate(ACTIES)]


def vraag(client: Client, actie: str, follow: bool = False):
    method, url, titel = ACTIES[actie]
    if method == "post":
        return client.post(url, {"geselecteerd": [titel]} if titel else {}, follow=follow)
    return client.get(url, follow=follow)


@pytest.mark.parametrize(("rol", "actie", "status"), CASES, ids=[f"{r}-{a}" for r, a, _ in CASES])
def test_authorization_matrix(rol, actie, status):
    spec = ROLLEN[rol]
    user = None if spec is None else gebruiker(rol, *spec)
    gebruiker("lid", "GM0363")  # the users the beheerders' actions name
    gebruiker("jan", "GM0599")
    client = ingelogd(user)
    response = vraag(client, actie)
    assert response.status_code == status
    if rol == "anoniem" and status == 302:  # in the end always the login page
        assert vraag(client, actie, follow=True).redirect_chain[-1][0].startswith("/inloggen/")
    weigeringen = list(AuditRegel.objects.filter(actie="geweigerd").values_list(
        "gebruiker", "resultaat", "object"))  # fmt: skip
    if status == 404:
        assert weigeringen == [(rol, "404", ACTIES[actie][1])]
    else:
        assert weigeringen == []


def test_a_download_is_the_recorded_file_as_an_attachment_and_is_audited():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    response = client.get(RI_0363)
    assert response.status_code == 200
    assert response.content == inhoud("123456782")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="GM0363_Re-integratie_signaalrapport_20261119.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert list(AuditRegel.objects.values_list("gebruiker", "gemeentecode", "actie", "object",
        "resultaat", "adres")) == [("piet", "GM0363", "download",
        "GM0363_Re-integratie_signaalrapport_20261119.csv", "gelukt", "127.0.0.1")]  # fmt: skip


def test_a_report_changed_on_disk_after_publication_is_not_sent():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    response = client.get(f"/ophalen/lks-re-integratie/{GEWIJZIGD}")
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert b"111222333" not in response.content
    assert b"BSN;" not in response.content
    assert "attachment" not in response.get("Content-Disposition", "")
    assert AuditRegel.objects.get().resultaat == "afwijkend bestand"


@pytest.mark.parametrize(
    "pad",
    [
        "/ophalen/lks-re-integratie/GM0363_Re-integratie_signaalrapport_20990101.csv",
        "/ophalen/lks-einde-zw/GM0363_Re-integratie_signaalrapport_20261119.csv",
        "/ophalen/lks-re-integratie/GM0599_Re-integratie_signaalrapport_20261119.csv",
        "/ophalen/lks-re-integratie/..%2F..%2Fwarehouse%2Flks_analyse.duckdb",
        "/ophalen/lks-re-integratie/reports%2FGM0363%2FGM0363_Re-integratie_signaalrapport_20261119.csv",
        "/ophalen/lks-re-integratie/../../warehouse/lks_analyse.duckdb",
        "/ophalen/onbekend-product/",
        "/ophalen/lks-re-integratie/111222333",
    ],
)
def test_unknown_ids_other_gemeenten_and_paths_answer_404_and_are_audited(pad):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    response = client.get(pad)
    assert response.status_code == 404
    assert b"GM0599" not in response.content
    regel = AuditRegel.objects.get()
    assert (regel.actie, regel.resultaat, regel.gebruiker) == ("geweigerd", "404", "piet")
    assert not re.search(r"\d{9}", regel.object)


def test_hiding_takes_reports_off_the_list_and_keeps_file_and_record(data):
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    lijst = client.get("/ophalen/lks-re-integratie/").content.decode()
    assert re.findall(r"<td>(GM\d{4}_[^<]+\.csv)</td>", lijst) == [
        GEWIJZIGD,
        "GM0363_Re-integratie_signaalrapport_20261119.csv",
        "GM0363_Re-integratie_signaalrapport_20261117.csv",
    ]
    verberg = "GM0363_Re-integratie_signaalrapport_20261117.csv"
    response = client.post("/ophalen/lks-re-integratie/verwijderen/", {"geselecteerd": [verberg]})
    assert response.status_code == 302
    lijst = client.get("/ophalen/lks-re-integratie/").content.decode()
    assert verberg not in lijst
    assert "1 rapport(en) verwijderd uit uw overzicht." in lijst
    assert (data / "reports" / "GM0363" / verberg).read_bytes() == inhoud("111222333")
    assert client.get(f"/ophalen/lks-re-integratie/{verberg}").status_code == 200
    # Another user of the same gemeente sees it hidden too; the pipeline's copy is untouched.
    ander = ingelogd(gebruiker("kees", "GM0363", (RI,)))
    assert verberg not in ander.get("/ophalen/lks-re-integratie/").content.decode()
    with duckdb.connect(str(data / "warehouse" / "lks_analyse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM signaalrapporten").fetchone() == (5,)


def test_a_report_shows_as_soon_as_the_pipeline_publishes_a_new_copy(settings, tmp_path):
    copy = tmp_path / "lks_analyse.duckdb"
    copy.write_bytes(settings.ANALYSE_PATH.read_bytes())
    settings.ANALYSE_PATH = copy
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    nieuw = "GM0363_LKS_einde_zw_signaalrapport_20261121.csv"
    assert nieuw not in client.get("/ophalen/lks-einde-zw/").content.decode()
    # As analyse.publish does: a new file renamed over the old one.
    volgende = tmp_path / "volgende.duckdb"
    volgende.write_bytes(copy.read_bytes())
    with duckdb.connect(str(volgende)) as conn:
        conn.execute(
            "INSERT INTO signaalrapporten VALUES (DATE '2026-11-21', 'GM0363', 'LKS einde zw', ?, "
            "'reports/GM0363/x.csv', 'y', 1, TIMESTAMP '2026-11-21 05:00:00')",
            [nieuw],
        )
    os.replace(volgende, copy)
    assert nieuw in client.get("/ophalen/lks-einde-zw/").content.decode()


def test_hiding_a_name_that_is_not_ours_changes_nothing():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    response = client.post(
        "/ophalen/lks-re-integratie/verwijderen/",
        {"geselecteerd": ["GM0363_Re-integratie_signaalrapport_20261117.csv",
                          "GM0599_Re-integratie_signaalrapport_20261119.csv"]},
    )  # fmt: skip
    assert response.status_code == 404
    assert Verborgen.objects.count() == 0


def test_the_list_has_the_seeds_columns_newest_first_and_pages():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    page = client.get("/ophalen/lks-einde-zw/").content.decode()
    headers = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert headers[:5] == ["Deelname datum", "Publicatie datum", "Door", "Voor", "Titel"]
    row = re.search(r"<tr>\s*<td>n\.v\.t\.</td>(.*?)</tr>", page, re.S)[1]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[:4] == ["21-11-2026", "Inlichtingenbureau", "Amsterdam",
                         "GM0363_LKS_einde_zw_signaalrapport_20261118.csv"]  # fmt: skip
    assert "Download GM0363_LKS_einde_zw_signaalrapport_20261118.csv" in page
    assert "Selecteer GM0363_LKS_einde_zw_signaalrapport_20261118.csv" in page
    assert "ORGANISATIE: Gemeente Amsterdam" in page


def test_pages_are_numbered_twenty_reports_each(data, settings, tmp_path):
    copy = tmp_path / "lks_analyse.duckdb"
    copy.write_bytes(settings.ANALYSE_PATH.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        conn.execute("DELETE FROM signaalrapporten")
        conn.execute(
            "INSERT INTO signaalrapporten SELECT d, 'GM0363', 'LKS einde zw', "
            "'GM0363_LKS_einde_zw_signaalrapport_' || strftime(d, '%Y%m%d') || '.csv', 'x', 'y', "
            "1, TIMESTAMP '2026-11-20 05:30:00' "
            "FROM (SELECT DATE '2026-01-01' + CAST(i AS INTEGER) AS d FROM range(45) AS t(i))"
        )
    settings.ANALYSE_PATH = copy
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    first = client.get("/ophalen/lks-einde-zw/").content.decode()
    third = client.get("/ophalen/lks-einde-zw/?pagina=3").content.decode()
    assert first.count("Download GM0363") == 20
    assert third.count("Download GM0363") == 5
    assert "GM0363_LKS_einde_zw_signaalrapport_20260214.csv" in first  # day 45: newest
    assert "Pagina 1 van 3" in first
    assert "GM0363_LKS_einde_zw_signaalrapport_20260101.csv" in third


def test_dashboard_shows_open_aanleverfouten_with_since_when():
    page = ingelogd(gebruiker("piet", "GM0363", ALLE)).get("/dashboard/").content.decode()
    table = re.search(r'<table class="lijst" id="aanleverfouten">(.*?)</table>', page, re.S)[1]
    rows = [re.findall(r"<td>([^<]*)</td>", r) for r in re.findall(r"<tr><td>.*?</tr>", table)]
    # BSN_ONGELDIG held on 18 and 20 November, not on the 19th: open since the 20th.
    assert [r[-3:] for r in rows] == [
        ["LOONWAARDE_ONTBREEKT", "2 zonder loonwaarde", "17-11-2026"],
        ["BSN_ONGELDIG", "1 ongeldig BSN", "20-11-2026"],
    ]
    assert table.count('class="let-op"') == 2
    assert "Er worden geen aanleveringen verwacht." not in page


def test_dashboard_without_open_aanleverfouten_says_none_are_expected(settings, tmp_path):
    settings.ANALYSE_PATH = tmp_path / "nog_geen_kopie.duckdb"  # before the first run
    page = ingelogd(gebruiker("jan", "GM0599", ALLE)).get("/dashboard/").content.decode()
    assert "aanleverfouten" not in page.split("<main")[1].split("Aanleveringen")[0]
    assert 'id="aanleverfouten"' not in page
    # No delivery ever: the verwijsindex is due now, so something is open after all.
    assert "nu: nog nooit ontvangen" in page
    assert "Er worden geen aanleveringen verwacht." not in page


def test_expected_deliveries_follow_the_aanleverfouten_terms():
    vandaag = dt.date(2026, 12, 2)
    stand = Stand({"verwijsindex": dt.date(2026, 11, 16), "dkd_reintegratie": dt.date(2026, 11, 1)},
                  "verzamelbestand", "maandelijks")  # fmt: skip
    rijen = verwachtingen(stand, vandaag, vi_max_dagen=35, marge=7)
    assert [(r.feed, r.volgende, r.open) for r in rijen] == [
        ("Verwijsindex", "uiterlijk 21-12-2026", False),  # 16-11 + 35 days, 19 days away
        ("DKD verzamelbestand", "uiterlijk 09-12-2026", True),  # 01-11 + 31 + 7, within a week
    ]
    webservice = verwachtingen(Stand({}, "webservice", None), vandaag, 35, 7)
    assert [(r.feed, r.open) for r in webservice] == [
        ("Verwijsindex", True), ("DKD re-integratie (webservice)", False)]  # fmt: skip
    rustig = Stand(
        {"verwijsindex": vandaag, "dkd_reintegratie": vandaag}, "verzamelbestand", "wekelijks"
    )
    assert not any(r.open for r in verwachtingen(rustig, vandaag, 35, 7))


def test_no_page_but_the_download_shows_a_bsn():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    pages = ["/dashboard/", "/ophalen/", "/ophalen/lks-re-integratie/", "/ophalen/lks-einde-zw/",
             f"/ophalen/lks-re-integratie/{GEWIJZIGD}", "/ophalen/lks-re-integratie/111222333"]  # fmt: skip
    for page in pages:
        body = client.get(page).content.decode()
        assert not [bsn for bsn in BSNS if bsn in body], page
    # The stored fields only: an object's repr holds a memory address, whose hex can be 9 digits.
    velden = ("gebruiker", "gemeentecode", "actie", "object", "adres", "resultaat")
    for regel in AuditRegel.objects.values_list(*velden):
        assert not re.search(r"\d{9}", " ".join(map(str, regel))), regel


def test_the_portal_serves_while_the_pipeline_holds_the_live_warehouse(data):
    # A writer holds lks.duckdb as a run does; a portal that opened it would fail on its lock.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(data / "warehouse" / "lks.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "open\n"
        client = ingelogd(gebruiker("piet", "GM0363", ALLE))
        assert "LOONWAARDE_ONTBREEKT" in client.get("/dashboard/").content.decode()
        assert client.get(RI_0363).content == inhoud("123456782")
    finally:
        holder.kill()
        holder.wait()


def test_security_headers_on_every_page():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    for url in [
        "/inloggen/",
        "/dashboard/",
        "/ophalen/lks-re-integratie/",
        RI_0363,
        "/bestaat-niet/",
    ]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, url
        assert "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "no-store" in response["Cache-Control"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_idle_session_ends_after_fifteen_minutes():
    client = ingelogd(gebruiker("piet", "GM0363", ALLE))
    response = client.get("/dashboard/")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    session = Session.objects.get()
    assert (session.expire_date - timezone.now()).total_seconds() == pytest.approx(900, abs=5)
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/dashboard/")["Location"].startswith("/inloggen/")


def test_the_audit_log_refuses_update_and_delete():
    AuditRegel.objects.create(gebruiker="piet", actie="download", resultaat="gelukt")
    for change in (lambda q: q.update(resultaat="anders"), lambda q: q.delete()):
        with pytest.raises(DatabaseError, match="alleen-toevoegen"), transaction.atomic():
            change(AuditRegel.objects.all())
    assert AuditRegel.objects.get().resultaat == "gelukt"


# Logging in for real: password (Argon2, django-axes), then the TOTP code.
WACHTWOORD = "correct paard batterij niet"


def code(naam: str, verschuiving: int = 0) -> str:
    device = TOTPDevice.objects.get(user__username=naam)
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.time = totp.time + verschuiving * 30
    return f"{totp.token():06d}"


def test_logging_in_takes_password_and_code_and_is_audited():
    maak("piet", WACHTWOORD, "GM0363")
    client = Client()
    stap1 = client.post("/inloggen/", {"username": "piet", "password": WACHTWOORD})
    assert stap1.status_code == 302
    assert stap1["Location"] == "/inloggen/code/"
    assert client.get("/dashboard/")["Location"].startswith("/inloggen/")  # not yet
    fout = client.post("/inloggen/code/", {"code": code("piet", verschuiving=10)})
    assert "De code is onjuist of verlopen." in fout.content.decode()
    time.sleep(1.1)  # django-otp throttles: after one wrong code, the next is checked after 1 s
    stap2 = client.post("/inloggen/code/", {"code": code("piet")})
    assert stap2.status_code == 302
    assert stap2["Location"] == "/dashboard/"
    page = client.get("/dashboard/").content.decode()
    assert "ORGANISATIE: Gemeente Amsterdam" in page
    assert "piet" in page
    client.post("/uitloggen/")
    assert client.get("/dashboard/")["Location"].startswith("/inloggen/")
    assert list(AuditRegel.objects.values_list("gebruiker", "actie", "resultaat")) == [
        ("piet", "tweede factor", "mislukt"),
        ("piet", "inloggen", "gelukt"),
        ("piet", "uitloggen", "gelukt"),
    ]


def test_five_wrong_passwords_lock_the_account_for_the_right_one_too():
    maak("piet", WACHTWOORD, "GM0363")
    client = Client()
    statuses = [
        client.post("/inloggen/", {"username": "piet", "password": f"fout {i}"}).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    goed = client.post("/inloggen/", {"username": "piet", "password": WACHTWOORD})
    assert goed.status_code == 429
    assert "15 minuten geblokkeerd" in goed.content.decode()
    assert client.get("/inloggen/code/")["Location"] == "/inloggen/"
    assert list(AuditRegel.objects.values_list("resultaat", flat=True)) == [
        "mislukt", "mislukt", "mislukt", "mislukt", "geblokkeerd", "geblokkeerd"]  # fmt: skip


def test_a_post_without_csrf_token_is_refused_and_audited():
    maak("piet", WACHTWOORD, "GM0363")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/inloggen/", {"username": "piet", "password": WACHTWOORD})
    assert response.status_code == 403
    assert "Verzoek geweigerd" in response.content.decode()
    assert list(AuditRegel.objects.values_list("actie", "resultaat", "object")) == [
        ("geweigerd", "403", "/inloggen/")]  # fmt: skip


def test_weak_passwords_and_unknown_gemeenten_are_refused():
    from lks_pipeline.portaal.gebruikers import Geweigerd

    with pytest.raises(Geweigerd, match="wachtwoord geweigerd"):
        maak("piet", "kort", "GM0363")
    with pytest.raises(Geweigerd, match="wachtwoord geweigerd"):
        maak("piet", "password1234", "GM0363")
    with pytest.raises(Geweigerd, match="GM9999"):
        maak("piet", WACHTWOORD, "GM9999")
    assert not User.objects.exists()
