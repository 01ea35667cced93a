"""A hostile inbox, end to end: 24 bad files beside the good ones, through one `process`.

Each bad file is refused or quarantined with a reason that names the file (and the line where
there is one), within a time bound; nothing of the good files is lost; nothing is read or
written outside the data root (a secret file beside it stays unread, a loopback HTTP server gets
no request). The parsers' own tests hold more detail; this proves the whole path.
"""

import time

import duckdb
import pytest

from lks_pipeline_tests.conftest import (
    NS_V0200,
    UWV_HEADER,
    Teller,
    cli_env,
    dkd_xml,
    lks_pipeline,
    write,
)
from lks_pipeline_tests.test_signalen import build_inbox

# Whole inboxes of hostile files through the pipeline: the full suite only.
pytestmark = pytest.mark.slow

BODY = (
    f'<GSDDossierReintegratie xmlns="{NS_V0200}"><Stuurgegevens><Gemeentecode>&x;'
    "</Gemeentecode><Aanmaakdatum>2026-11-20</Aanmaakdatum></Stuurgegevens>"
    "</GSDDossierReintegratie>"
)
UWV_GOED = "UWV-101;ZIEK_UIT_DIENST;999999904;1980-02-03;Dijk;van;P.;Groen B.V.;123456789L01;2026-10-01;2026-11-15;2026-11-30;;"


def hostile_files(root, secret, url):
    """{path under inbox: bytes}: each a different attack or malformation, each its own partition."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    deep = "<a>" * 100_000 + "</a>" * 100_000
    latin1_xml = dkd_xml("GM0080", "").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    vi = "bsn;cluster\n"
    return {
        # DKD XML (rules 4.4)
        "dkd/dkd_reintegratie_GM0034_20261118.xml": f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>{BODY}'.encode(),
        "dkd/dkd_reintegratie_GM0037_20261118.xml": f'<!DOCTYPE r [<!ENTITY x SYSTEM "{url}/x">]>{BODY}'.encode(),
        "dkd/dkd_reintegratie_GM0047_20261118.xml": f'<!DOCTYPE r SYSTEM "{url}/x.dtd">{BODY}'.encode(),
        "dkd/dkd_reintegratie_GM0050_20261118.xml": f'<!DOCTYPE r [<!ENTITY l0 "ha">{laughs}<!ENTITY x "&l9;">]>{BODY}'.encode(),
        "dkd/dkd_reintegratie_GM0059_20261118.xml": (
            f'<!DOCTYPE r [<!ENTITY x "{"a" * 100_000}">]>' + BODY.replace("&x;", "&x;" * 10_000)
        ).encode(),
        "dkd/dkd_reintegratie_GM0060_20261118.xml": dkd_xml("GM0060", deep).encode(),
        "dkd/dkd_reintegratie_GM0072_20261118.xml": dkd_xml("GM0072", "<Client><BSN>1</BSN>")[
            :-30
        ].encode(),
        "dkd/dkd_reintegratie_GM0074_20261118.xml": dkd_xml("GM0074", "")
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
        .encode("utf-16"),
        "dkd/dkd_reintegratie_GM0080_20261118.xml": latin1_xml.replace(
            "</Stuurgegevens>", "</Stuurgegevens><!-- café -->"
        ).encode("latin-1"),
        "dkd/dkd_reintegratie_GM0085_20261118.xml": dkd_xml("GM0085", "")
        .encode()
        .replace(b"<Stuurgegevens>", b"<Stuurgegevens>\x00"),
        "dkd/dkd_reintegratie_GM0086_20261118.xml": b"",
        # Verwijsindex CSV (rules 4.2)
        "verwijsindex/verwijsindex_GM0088_20261119.csv": b"",
        "verwijsindex/verwijsindex_GM0090_20261119.csv": (
            vi + "123456782;Reintegratie\n12345\x006782;Reintegratie\n"
        ).encode(),
        "verwijsindex/verwijsindex_GM0093_20261119.csv": (vi + "123456782;Reintegratie\n").encode(
            "utf-16"
        ),
        "verwijsindex/verwijsindex_GM0096_20261119.csv": (vi + "123456782;Réintegratie\n").encode(
            "latin-1"
        ),
        "verwijsindex/verwijsindex_GM0098_20261119.csv": (
            vi
            + '"12345\n6782";Reintegratie\n"123456782";"Re""integratie"\n999999904;Reintegratie\n'
        ).encode(),
        "verwijsindex/verwijsindex_GM0106_20261119.csv": (
            vi + "123456782;" + "x" * 3_000_000 + "\n999999904;Reintegratie\n"
        ).encode(),
        # UWV CSV (rules 4.1), each on a day of its own
        "uwv/uwv_lks_20261110.csv": f"{UWV_HEADER}\n{UWV_GOED}\n{UWV_GOED.replace('999999904', '555555501')}\n".encode(),
        "uwv/uwv_lks_20261111.csv": f"{UWV_HEADER}\n{UWV_GOED.replace('1980-02-03', '2021-02-30')}\n".encode(),
        "uwv/uwv_lks_20261112.csv": (
            f"{UWV_HEADER}\nUWV-102;EINDE_ZW;555555501;1975-05-06;=Jansen;+van;-A.B.;@SOM(A1);111111111L01;;;;2021-06-15;2021-12-31\n"
        ).encode(),
        "uwv/uwv_lks_20261113.csv": (
            f'{UWV_HEADER}\nUWV-103;EINDE_ZW;555555501;1975-05-06;Jansen;;A.B.;"Werkplaats\nNoord ""West""";111111111L01;;;;2021-06-15;2021-12-31\n'
        ).encode(),
    }


def test_a_hostile_inbox_loses_nothing_good_and_leaks_nothing(tmp_path, http_server):
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIM-123456782")
    data = tmp_path / "data"
    build_inbox(data)
    inbox = data / "inbox"
    for name, content in hostile_files(data, secret, http_server).items():
        write(inbox / name, content)
    # names: a '..', an unknown gemeente, a symlink to a file outside the inbox
    write(inbox / "verwijsindex" / "..verwijsindex_GM0363_20261119.csv", b"bsn;cluster\n")
    write(inbox / "verwijsindex" / "verwijsindex_GM9999_20261119.csv", b"bsn;cluster\n")
    (inbox / "uwv" / "uwv_lks_20261114.csv").symlink_to(secret)
    outside_before = sorted(p.name for p in tmp_path.iterdir())

    env = cli_env(data, tmp_path / "home")
    start = time.monotonic()
    run = lks_pipeline("process", env=env)
    seconds = time.monotonic() - start
    assert run.returncode == 0, run.stdout + run.stderr

    with duckdb.connect(str(data / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        leveringen = conn.execute(
            "SELECT bestand, status, reden FROM leveringen ORDER BY bestand"
        ).fetchall()
        quarantaine = conn.execute(
            "SELECT bestand, regel, reden FROM quarantaine ORDER BY bestand, regel"
        ).fetchall()
        tellingen = conn.execute(
            "SELECT 'verwijsindex', count(*) FROM verwijsindex UNION ALL "
            "SELECT 'dkd', count(*) FROM dkd_reintegratie UNION ALL "
            "SELECT 'uwv', count(*) FROM uwv_events ORDER BY 1"
        ).fetchall()
    assert seconds < 90, seconds  # no hang: the whole run, 24 bad files included

    # Every bad file is accounted for by name: refused whole, with the reason and its line ...
    refused = {b: (r, regel) for b, regel, r in quarantaine if b in AFGEWEZEN}
    for bestand, (reden, regel) in AFGEWEZEN.items():
        assert (bestand, "afgewezen", reden) in leveringen, bestand
        assert refused[bestand] == (reden, regel), bestand
    # ... or read, with its bad rows quarantined alone, by line.
    for bestand, rijen in GEDEELTELIJK.items():
        assert (bestand, "geladen", None) in leveringen, bestand
        assert [(regel, reden) for b, regel, reden in quarantaine if b == bestand] == rijen
    # Nothing good is lost: the good files' rows, plus the good rows of the partly bad files.
    assert tellingen == [("dkd", 11), ("uwv", 16 + 2 + 1 + 1 + 1), ("verwijsindex", 16 + 1 + 1)]
    # Formula-like text reaches the report as text: every such cell starts with a quote.
    report = data / "reports" / "GM0363" / "GM0363_LKS_einde_zw_signaalrapport_20261112.csv"
    assert report.read_bytes().decode("utf-8-sig").splitlines()[1] == (
        "555555501;06-05-1975;'=Jansen;'+van;'-A.B.;'@SOM(A1);111111111L01;"
        "Re-integratie inzet met gegevens over Loonkostensubsidie gevonden.;;15-06-2021;;31-12-2021"
    )
    # Nothing was fetched, read or written outside the data root (DAGSTER_HOME is the run's).
    assert Teller.hits == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*outside_before, "home"])
    assert b"GEHEIM" not in (data / "warehouse" / "lks.duckdb").read_bytes()
    assert "GEHEIM" not in run.stdout + run.stderr


DTD = "DOCTYPE/DTD is niet toegestaan"
AFGEWEZEN = {
    "dkd_reintegratie_GM0034_20261118.xml": (DTD, 1),  # XXE, a local file
    "dkd_reintegratie_GM0037_20261118.xml": (DTD, 1),  # XXE over the network
    "dkd_reintegratie_GM0047_20261118.xml": (DTD, 1),  # an external DTD
    "dkd_reintegratie_GM0050_20261118.xml": (DTD, 1),  # billion laughs
    "dkd_reintegratie_GM0059_20261118.xml": (DTD, 1),  # quadratic blow-up
    "dkd_reintegratie_GM0060_20261118.xml": (
        "XML is niet well-formed: Excessive depth in document: 256, use XML_PARSE_HUGE option, "
        "line 4, column 768",
        4,
    ),
    "dkd_reintegratie_GM0072_20261118.xml": (
        "XML is niet well-formed: expected '>', line 4, column 17",
        4,
    ),
    "dkd_reintegratie_GM0085_20261118.xml": (
        "XML is niet well-formed: Invalid character: Char 0x0 out of allowed range, line 3, "
        "column 16",
        3,
    ),
    "dkd_reintegratie_GM0086_20261118.xml": ("XML is niet well-formed: no element found", None),
    "verwijsindex_GM0088_20261119.csv": ("is leeg: de kopregel ontbreekt", None),
    "verwijsindex_GM0090_20261119.csv": ("bevat NUL-tekens", 3),
    "verwijsindex_GM0093_20261119.csv": ("is UTF-16 gecodeerd, niet UTF-8", 1),
    "verwijsindex_GM0096_20261119.csv": ("is geen geldige UTF-8", 2),
    "..verwijsindex_GM0363_20261119.csv": (
        "bestandsnaam past niet in het patroon van deze feed",
        None,
    ),
    "verwijsindex_GM9999_20261119.csv": ("gemeentecode GM9999 staat niet in de CBS-lijst", None),
    "uwv_lks_20261114.csv": ("symbolische link: wordt niet gelezen", None),
}
GEDEELTELIJK = {
    # a BSN with a quoted newline in it (the record starts on line 2), a quoted quote in the
    # cluster (line 4, after the two-line record); the third row is good
    "verwijsindex_GM0098_20261119.csv": [
        (2, "bsn: geen geldig BSN (9 cijfers, elfproef)"),
        (4, "cluster: geen bekend DKD-cluster"),
    ],
    "verwijsindex_GM0106_20261119.csv": [(2, "regel is langer dan 2 MiB")],  # the next row is good
    "uwv_lks_20261110.csv": [(3, "uwv_kenmerk komt eerder in het bestand voor")],
    "uwv_lks_20261111.csv": [(2, "geboortedatum: geen geldige datum (JJJJ-MM-DD)")],  # 2021-02-30
    "uwv_lks_20261112.csv": [],  # formula-like text in every text column is data, escaped in reports
    "uwv_lks_20261113.csv": [],  # a quoted newline and quotes in a field
    # encodings that XML declares itself are XML: read as declared
    "dkd_reintegratie_GM0074_20261118.xml": [],  # UTF-16 with its BOM and declaration
    "dkd_reintegratie_GM0080_20261118.xml": [],  # ISO-8859-1, declared
}
