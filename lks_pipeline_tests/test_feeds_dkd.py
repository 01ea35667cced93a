"""DKD re-integratieberichten (rules 4.4): streamed, validated per Client, hostile XML refused."""

import io
import time

import pandas as pd
import pytest

from lks_pipeline.ingest import dkd
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline_tests.conftest import NS_V0100, NS_V0200, Teller, dkd_xml

LKS = (
    "<ReintegratieInzet><Soort>Loonkostensubsidie</Soort><Begindatum>2024-03-01</Begindatum>"
    "<Einddatum>2026-02-28</Einddatum><Loonkostensubsidie><Begindatum>2024-03-01</Begindatum>"
    "<Einddatum>2026-02-28</Einddatum>{pct}"
    "<LoonheffingennummerWerkgever>123456789L01</LoonheffingennummerWerkgever>"
    "</Loonkostensubsidie></ReintegratieInzet>"
)


def read(xml: str, gemeentecode: str = "GM0363"):
    return dkd.read(io.BytesIO(xml.encode()), "dkd_reintegratie_GM0363_20261120.xml", gemeentecode)


def rows(parsed, table):
    """The table's rows as lists; a missing value (pd.NA in the Arrow-backed frame) is None."""
    values = parsed.tables[table].astype(object).values.tolist()
    return [[None if v is pd.NA else v for v in row] for row in values]


def test_clients_become_rows_and_bad_clients_are_quarantined_alone():
    clients = "\n".join(
        [
            # line 4: good, two doelgroepen and two inzetten
            "<Client><BSN>123456782</BSN>"
            "<Doelgroep><Code>01</Code><Begindatum>2023-01-01</Begindatum>"
            "<Einddatum>2027-12-31</Einddatum></Doelgroep>"
            "<Doelgroep><Code>30</Code><Begindatum>2019-01-01</Begindatum></Doelgroep>"
            + LKS.format(pct="<PercentageLoonwaarde>65.5</PercentageLoonwaarde>")
            + "<ReintegratieInzet><Soort>Jobcoaching</Soort><Begindatum>2025-01-01</Begindatum>"
            "</ReintegratieInzet></Client>",
            # line 5: good, leading zero, no DKD details at all
            "<Client><BSN>010000008</BSN></Client>",
            # line 6: invalid BSN
            "<Client><BSN>123456781</BSN></Client>",
            # line 7: impossible date
            "<Client><BSN>111222333</BSN><Doelgroep><Code>01</Code>"
            "<Begindatum>2021-02-30</Begindatum></Doelgroep></Client>",
            # line 8: percentage outside (0, 100)
            "<Client><BSN>999999990</BSN>"
            + LKS.format(pct="<PercentageLoonwaarde>100</PercentageLoonwaarde>")
            + "</Client>",
            # line 9: doelgroep code of three digits
            "<Client><BSN>100000009</BSN><Doelgroep><Code>001</Code>"
            "<Begindatum>2023-01-01</Begindatum></Doelgroep></Client>",
            # line 10: Loonkostensubsidie ending before it begins
            "<Client><BSN>200000007</BSN><ReintegratieInzet><Soort>Loonkostensubsidie</Soort>"
            "<Begindatum>2024-03-01</Begindatum><Loonkostensubsidie>"
            "<Begindatum>2024-03-01</Begindatum><Einddatum>2024-02-28</Einddatum>"
            "</Loonkostensubsidie></ReintegratieInzet></Client>",
            # line 11: the same BSN as line 4
            "<Client><BSN>123456782</BSN></Client>",
            # line 12: an element that is no Client
            "<Bijlage>tekst</Bijlage>",
        ]
    )
    parsed = read(dkd_xml("GM0363", clients + "\n"))
    assert parsed.berichtversie == "GSDDossierReintegratie-v0200"
    assert str(parsed.aanmaakdatum) == "2026-11-20"
    assert rows(parsed, "dkd_reintegratie") == [["123456782", 4], ["010000008", 5]]
    assert rows(parsed, "dkd_doelgroepen") == [
        ["123456782", "01", "2023-01-01", "2027-12-31"],
        ["123456782", "30", "2019-01-01", None],
    ]
    assert rows(parsed, "dkd_inzetten") == [
        ["123456782", 1, "Loonkostensubsidie", "2024-03-01", "2026-02-28"],
        ["123456782", 2, "Jobcoaching", "2025-01-01", None],
    ]
    assert rows(parsed, "dkd_loonkostensubsidies") == [
        ["123456782", 1, "2024-03-01", "2026-02-28", "65.5", "123456789L01"]
    ]
    assert [(q.regel, q.bsn_gemaskeerd, q.reden) for q in parsed.quarantaine] == [
        (6, "******781", "BSN: geen geldig BSN (elfproef)"),
        (7, "******333", "Client voldoet niet aan de XSD: ongeldige waarde bij Begindatum"),
        (
            8,
            "******990",
            "Client voldoet niet aan de XSD: waarde buiten bereik bij PercentageLoonwaarde",
        ),
        (9, "******009", "Client voldoet niet aan de XSD: ongeldige waarde bij Code"),
        (10, "******007", "Loonkostensubsidie: Einddatum ligt voor Begindatum"),
        (11, "******782", "BSN komt eerder voor (regel 4)"),
        (12, None, "onverwacht element Bijlage"),
    ]


def test_v0100_has_no_percentage_loonwaarde():
    good = "<Client><BSN>123456782</BSN>" + LKS.format(pct="") + "</Client>\n"
    bad = (
        "<Client><BSN>010000008</BSN>"
        + LKS.format(pct="<PercentageLoonwaarde>50</PercentageLoonwaarde>")
        + "</Client>\n"
    )
    parsed = read(dkd_xml("GM0363", good + bad, ns=NS_V0100))
    assert parsed.berichtversie == "GSDDossierReintegratie-v0100"
    assert rows(parsed, "dkd_loonkostensubsidies") == [
        ["123456782", 1, "2024-03-01", "2026-02-28", None, "123456789L01"]
    ]
    assert [(q.regel, q.reden) for q in parsed.quarantaine] == [
        (
            5,
            "Client voldoet niet aan de XSD: onverwacht of ontbrekend element bij PercentageLoonwaarde",
        )
    ]


def test_any_xsd_valid_date_is_read_or_its_client_quarantined_never_the_file_failed():
    """xs:date also allows a timezone, a minus sign and years past 9999 (XSD 1.0, 3.2.9)."""
    clients = "\n".join(
        [
            # line 4: timezones say nothing about the day: read as plain dates
            "<Client><BSN>123456782</BSN><Doelgroep><Code>01</Code>"
            "<Begindatum>2023-01-01+01:00</Begindatum><Einddatum>2023-12-31Z</Einddatum>"
            "</Doelgroep></Client>",
            # line 5: a year past 9999 no database date holds
            "<Client><BSN>010000008</BSN><ReintegratieInzet><Soort>Jobcoaching</Soort>"
            "<Begindatum>2025-01-01</Begindatum><Einddatum>10000-01-01</Einddatum>"
            "</ReintegratieInzet></Client>",
            # line 6: a year before 0001
            "<Client><BSN>111222333</BSN><Doelgroep><Code>01</Code>"
            "<Begindatum>-0001-01-01</Begindatum></Doelgroep></Client>",
            # line 7: a timezone does not hide an end before the begin
            "<Client><BSN>999999990</BSN><Doelgroep><Code>01</Code>"
            "<Begindatum>2023-01-02-14:00</Begindatum><Einddatum>2023-01-01+14:00</Einddatum>"
            "</Doelgroep></Client>",
        ]
    )
    xml = dkd_xml("GM0363", clients + "\n").replace("2026-11-20<", "2026-11-20Z<")
    parsed = read(xml)
    assert str(parsed.aanmaakdatum) == "2026-11-20"
    assert rows(parsed, "dkd_reintegratie") == [["123456782", 4]]
    assert rows(parsed, "dkd_doelgroepen") == [["123456782", "01", "2023-01-01", "2023-12-31"]]
    assert [(q.regel, q.reden) for q in parsed.quarantaine] == [
        (5, "ReintegratieInzet: datum valt buiten de jaren 0001-9999"),
        (6, "Doelgroep: datum valt buiten de jaren 0001-9999"),
        (7, "Doelgroep: Einddatum ligt voor Begindatum"),
    ]


@pytest.mark.parametrize(
    ("xml", "reden", "regel"),
    [
        (dkd_xml("GM0363", "<Client><BSN>1</BSN>")[:-30], "XML is niet well-formed", 4),
        (dkd_xml("GM0363", "").replace(NS_V0200, "urn:lks:dkd:GSDDossierReintegratie-v0300"),
         "onbekende namespace urn:lks:dkd:GSDDossierReintegratie-v0300", 2),
        (dkd_xml("GM0363", "").replace(NS_V0200, "urn:iets:anders"), "onbekende namespace urn:iets:anders", 2),
        (dkd_xml("GM0599", ""), "Stuurgegevens noemen gemeente GM0599, de bestandsnaam GM0363", 3),
        (dkd_xml("GM0363", "").replace("<Aanmaakdatum>2026-11-20</Aanmaakdatum>", ""),
         "Stuurgegevens voldoet niet aan de XSD: onverwacht of ontbrekend element", 3),
        (dkd_xml("GM0363", "").replace("2026-11-20<", "12026-11-20<"),
         "Stuurgegevens: Aanmaakdatum valt buiten de jaren 0001-9999", 3),
        (f'<GSDDossierReintegratie xmlns="{NS_V0200}"><Client><BSN>123456782</BSN></Client>'
         "</GSDDossierReintegratie>", "Stuurgegevens ontbreken of staan niet vooraan", 1),
        (f'<Bericht xmlns="{NS_V0200}"/>', "hoofdelement is Bericht, niet GSDDossierReintegratie", 1),
        (f'<GSDDossierReintegratie xmlns="{NS_V0200}">' + "<a>" * 300 + "</a>" * 300
         + "</GSDDossierReintegratie>", "XML is niet well-formed", 1),
    ],
)  # fmt: skip
def test_whole_file_rejections(xml, reden, regel):
    with pytest.raises(FileRejected) as rejected:
        read(xml)
    assert rejected.value.reden.startswith(reden)
    assert rejected.value.regel == regel
    assert rejected.value.bestand == "dkd_reintegratie_GM0363_20261120.xml"


def _hostile(tmp_path, http_server):
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIM-123456782")
    body = (
        f'<GSDDossierReintegratie xmlns="{NS_V0200}"><Stuurgegevens><Gemeentecode>&x;'
        "</Gemeentecode><Aanmaakdatum>2026-11-20</Aanmaakdatum></Stuurgegevens>"
        "</GSDDossierReintegratie>"
    )
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "xxe lokaal bestand": f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>{body}',
        "xxe netwerk": f'<!DOCTYPE r [<!ENTITY x SYSTEM "{http_server}/x">]>{body}',
        "externe dtd": f'<!DOCTYPE r SYSTEM "{http_server}/x.dtd">{body}',
        "parameter-entity": f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{http_server}/p"> %p;]>{body}',
        "billion laughs": f'<!DOCTYPE r [<!ENTITY l0 "ha">{laughs}<!ENTITY x "&l9;">]>{body}',
        "kwadratische opblazing": f'<!DOCTYPE r [<!ENTITY x "{"a" * 100_000}">]>'
        + body.replace("&x;", "&x;" * 10_000),
    }


def test_hostile_documents_are_refused_fast_reading_nothing(tmp_path, http_server):
    for name, xml in _hostile(tmp_path, http_server).items():
        start = time.monotonic()
        with pytest.raises(FileRejected) as rejected:
            read(xml)
        assert time.monotonic() - start < 2, name
        assert rejected.value.reden == "DOCTYPE/DTD is niet toegestaan", name
        assert "GEHEIM" not in str(rejected.value)
    assert Teller.hits == 0
