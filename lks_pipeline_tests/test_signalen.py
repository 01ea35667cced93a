"""rules 5 and 6.1 on a hand-built inbox: every rule, with the exact bytes of every report.

The persons (BSNs pass the elfproef; P16 is known by no gemeente):

| person | BSN | gemeente(n) | case |
|---|---|---|---|
| P1 | 999999904 | GM0363 | ZIEK_UIT_DIENST, LKS with percentage in the window: zekerheid 1 |
| P2 | 555555501 | GM0363 | LKS ends on the first day of the window: 1; name `=Jansen` |
| P3 | 333333305 | GM0363 | LKS ends the day before the window: 2 |
| P4 | 777777708 | GM0363 | LKS starts on the peildatum: 1; name `+Bakker` |
| P5 | 222222207 | GM0363 | LKS starts the day after the peildatum: 2 |
| P6 | 888888806 | GM0363 | LKS without PercentageLoonwaarde, no doelgroep at all: 2; `@Smit` |
| P7 | 444444403 | GM0599 | a v0100 delivery (no percentage possible): 2 |
| P8 | 666666611 | GM0363 | doelgroep 30 only: buiten_doelgroep |
| P9 | 121212105 | GM0363 | doelgroep 01 ended before the window: buiten_doelgroep |
| P10 | 010000008 | GM0518 | verwijsindex only, no DKD data: 3; leading zero |
| P11 | 232323203 | GM0518 | EINDE_ZW begindatum 2021-12-31: signalled; `-Visser` |
| P12 | 343434301 | GM0518 | EINDE_ZW begindatum 2022-01-01: na_wetswijziging_2022 |
| P13 | 454545411 | GM0518 | EINDE_ZW without einddatum: begindatum + 104 weeks - 1 day |
| P14 | 111111109 | GM0363, GM0518 | two gemeenten, zekerheid 1 and 3; employer with `"` and `;` |
| P15 | 565656508 | GM0014 | known only through DKD data (no verwijsindex): 1 |
| P16 | 676767606 | none | niet_routeerbaar |
| P17 | 787878704 | GM0344 | in a verwijsindex, no event (the leak test's victim gemeente) |
"""

import hashlib
from contextlib import contextmanager

import dagster as dg
import duckdb
import pytest
from stdnum.nl import bsn as stdnum_bsn

from lks_pipeline.core.partitions import partition_range_tags
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.ingest import assets as feeds
from lks_pipeline.rapporten import assets as rapporten
from lks_pipeline.referentie import assets as referentie
from lks_pipeline.signalen import assets as signalen
from lks_pipeline_tests.conftest import NS_V0100, UWV_HEADER, dkd_xml, write

D1, D2 = "2026-11-20", "2026-11-21"
Z1 = "Re-integratie inzet met gegevens over Loonkostensubsidie gevonden."
Z2 = "Re-integratie inzet gevonden maar (nog) geen gegevens over Loonkostensubsidie bekend."
Z3 = "BSN bekend bij GSD."
BOM = "\ufeff"
REINTEGRATIE_HEADER = (
    "BSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;Datum eerste AO-dag\r\n"
)
EINDE_ZW_HEADER = (
    "BSN;Geboortedatum;Achternaam;Voorvoegsel;Voorletter(s);Naam administratieve eenheid;"
    "Loonheffingsnummer;Zekerheid Loonkostensubsidie;Datum ziekmelding;Begindatum ZW uitkering;"
    "Datum betermelding;Einddatum ZW uitkering\r\n"
)

UWV_D1 = f"""{UWV_HEADER}
UWV-001;ZIEK_UIT_DIENST;999999904;1980-02-03;Dijk;van;P.;Groen B.V.;123456789L01;2026-10-01;2026-11-15;2026-11-30;;
UWV-002;EINDE_ZW;555555501;1975-05-06;=Jansen;;A.B.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-003;EINDE_ZW;333333305;1976-07-08;Pietersen;;C.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-004;EINDE_ZW;777777708;1977-09-10;+Bakker;de;D.E.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-005;EINDE_ZW;222222207;1978-11-12;Vries;de;F.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-006;EINDE_ZW;888888806;1979-01-13;@Smit;;G.;"=HYPERLINK(""x"")";222222222L02;;;;2021-06-15;2021-12-31
UWV-007;EINDE_ZW;444444403;1981-03-14;Öztürk;;H.;Zorg & Co;333333333L03;;;;2021-05-10;2021-11-30
UWV-008;EINDE_ZW;666666611;1982-04-15;Buiten;;I.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-009;EINDE_ZW;121212105;1983-05-16;Verlopen;;J.;Werkplaats Noord;111111111L01;;;;2021-06-15;2021-12-31
UWV-010;ZIEK_UIT_DIENST;010000008;1984-06-17;Nul;;K.;Groen B.V.;123456789L01;2026-09-01;2026-11-10;;;
UWV-011;EINDE_ZW;232323203;1985-07-18;-Visser;;L.;Groen B.V.;123456789L01;;;;2021-12-31;2022-03-31
UWV-012;EINDE_ZW;343434301;1986-08-19;Nieuw;;M.;Groen B.V.;123456789L01;;;;2022-01-01;2022-03-31
UWV-013;EINDE_ZW;454545411;1987-09-20;Open;van der;N.O.;Groen B.V.;123456789L01;;;;2021-03-01;
UWV-014;EINDE_ZW;111111109;1988-10-21;Twee;;P.;"Bakkerij ""De Zon""; Zn";444444444L04;;;;2021-09-01;2022-02-28
UWV-015;ZIEK_UIT_DIENST;565656508;1989-11-22;Alleen;;Q.;Groen B.V.;123456789L01;2026-08-01;2026-11-15;2026-11-15;;
UWV-016;ZIEK_UIT_DIENST;676767606;1990-12-23;Onbekend;;R.;Groen B.V.;123456789L01;2026-09-01;2026-11-01;;;
UWV-017;ZIEK_UIT_DIENST;123456789;1991-01-24;Fout;;S.;Groen B.V.;123456789L01;2026-09-01;2026-11-01;;;
"""
UWV_D2 = f"""{UWV_HEADER}
UWV-001;ZIEK_UIT_DIENST;999999904;1980-02-03;Dijk;van;P.;Groen B.V.;123456789L01;2026-10-01;2026-11-15;2026-11-30;;
UWV-101;ZIEK_UIT_DIENST;010000008;1984-06-17;Nul;;K.;Groen B.V.;123456789L01;2026-09-01;2026-11-10;2026-11-20;;
"""


def period(begin, einde=None):
    return f"<Begindatum>{begin}</Begindatum>" + (
        f"<Einddatum>{einde}</Einddatum>" if einde else ""
    )


def client(bsn, doelgroepen=(), lks=None, pct=None):
    """A Client with doelgroepen [(code, begin, einde)] and one LKS inzet (begin, einde)."""
    xml = f"<Client><BSN>{bsn}</BSN>"
    for code, begin, einde in doelgroepen:
        xml += f"<Doelgroep><Code>{code}</Code>{period(begin, einde)}</Doelgroep>"
    if lks is not None:
        percentage = f"<PercentageLoonwaarde>{pct}</PercentageLoonwaarde>" if pct else ""
        xml += (
            f"<ReintegratieInzet><Soort>Loonkostensubsidie</Soort>{period(*lks)}"
            f"<Loonkostensubsidie>{period(*lks)}{percentage}</Loonkostensubsidie>"
            "</ReintegratieInzet>"
        )
    return xml + "</Client>\n"


OPEN = ("2015-01-01", None)
GM0363_CLIENTS = "".join(
    [
        client("999999904", [("01", "2020-01-01", None)], ("2024-03-01", None), "65.0"),
        client("555555501", [("01", *OPEN)], ("2017-01-01", "2019-06-15"), "50.0"),
        client("333333305", [("01", *OPEN)], ("2017-01-01", "2019-06-14"), "50.0"),
        client("777777708", [("01", *OPEN)], ("2021-06-15", None), "40.0"),
        client("222222207", [("01", *OPEN)], ("2021-06-16", None), "40.0"),
        client("888888806", [], ("2020-01-01", None)),
        client("666666611", [("30", "2016-01-01", None)], ("2020-01-01", None), "70.0"),
        client("121212105", [("01", "2015-01-01", "2019-01-01")], ("2020-01-01", None), "60.0"),
        client("111111109", [("05", "2018-01-01", None)], ("2020-01-01", "2022-12-31"), "50.0"),
    ]
)


def build_inbox(root):
    inbox = root / "inbox"
    vi_header = "bsn;cluster\n"
    verwijsindex = {
        "GM0363": "999999904 555555501 333333305 777777708 222222207 888888806 666666611 "
        "121212105 111111109",
        "GM0599": "444444403",
        "GM0518": "010000008 232323203 343434301 454545411 111111109",
        "GM0344": "787878704",
    }
    for gemeente, bsns in verwijsindex.items():
        rows = "".join(f"{b};Reintegratie\n" for b in bsns.split())
        write(inbox / "verwijsindex" / f"verwijsindex_{gemeente}_20261119.csv", vi_header + rows)
    dkd = inbox / "dkd"
    write(dkd / "dkd_reintegratie_GM0363_20261118.xml", dkd_xml("GM0363", GM0363_CLIENTS))
    write(
        dkd / "dkd_reintegratie_GM0599_20261118.xml",
        dkd_xml(
            "GM0599",
            client("444444403", [("06", "2016-01-01", None)], ("2020-01-01", None)),
            ns=NS_V0100,
        ),
    )
    write(
        dkd / "dkd_reintegratie_GM0014_20261118.xml",
        dkd_xml(
            "GM0014",
            client("565656508", [("01", "2019-01-01", None)], ("2025-01-01", None), "45.5"),
        ),
    )
    write(inbox / "uwv" / "uwv_lks_20261120.csv", UWV_D1)
    write(inbox / "uwv" / "uwv_lks_20261121.csv", UWV_D2)


def resources_for(root):
    return {
        "lks": LksSettings(data_dir=str(root)),
        "duckdb": Warehouse(database=str(root / "warehouse" / "lks.duckdb")),
    }


@contextmanager
def ingested(root):
    """Materialize the reference and feed assets; yield a runner for a day's signal path."""
    build_inbox(root)
    resources = resources_for(root)
    with dg.instance_for_test() as instance:

        def materialize(assets, partition=None, **kwargs):
            return dg.materialize(
                assets, resources=resources, partition_key=partition, instance=instance, **kwargs
            )

        materialize([referentie.gemeenten, referentie.doelgroepregister_codes])
        for gemeente in ("GM0363", "GM0599", "GM0518", "GM0344", "GM0014"):
            materialize([feeds.verwijsindex], gemeente)
            materialize([feeds.dkd_reintegratie], gemeente)
        for dag in (D1, D2):
            materialize([feeds.uwv_events], dag)

        def signaalpad(dag, **kwargs):
            return materialize(
                [signalen.signalen, rapporten.signaalrapporten, signalen.poortwachter_termijnen],
                dag,
                **kwargs,
            )

        yield signaalpad


@pytest.fixture
def pipeline(data_root):
    """A fresh warehouse for tests that change it."""
    with ingested(data_root) as signaalpad:
        yield signaalpad


@pytest.fixture(scope="module")
def verwerkt(tmp_path_factory):
    """One warehouse with both days processed in order, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("verwerkt")
    with ingested(root) as signaalpad:
        first, second = signaalpad(D1), signaalpad(D2)
        yield root, first, second


def query(data_root, sql):
    with duckdb.connect(str(data_root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def report(data_root, gemeente, product, dag="20261120"):
    return (data_root / "reports" / gemeente / f"{gemeente}_{product}_{dag}.csv").read_bytes()


def test_fixture_bsns_are_valid():
    persons = (
        "999999904 555555501 333333305 777777708 222222207 888888806 444444403 666666611 "
        "121212105 010000008 232323203 343434301 454545411 111111109 565656508 676767606 787878704"
    )
    assert all(stdnum_bsn.is_valid(b) for b in persons.split())
    assert not stdnum_bsn.is_valid("123456789")


def test_outcomes_and_zekerheid_per_event_and_gemeente(verwerkt):
    data_root, result, _ = verwerkt
    assert result.success
    assert query(
        data_root,
        "SELECT uwv_kenmerk, bsn, gemeentecode, uitkomst, zekerheid, via_verwijsindex, via_dkd "
        "FROM signalen WHERE leverdatum = '2026-11-20' ORDER BY uwv_kenmerk, gemeentecode",
    ) == [
        ("UWV-001", "999999904", "GM0363", "gemeld", 1, True, True),
        ("UWV-002", "555555501", "GM0363", "gemeld", 1, True, True),
        ("UWV-003", "333333305", "GM0363", "gemeld", 2, True, True),
        ("UWV-004", "777777708", "GM0363", "gemeld", 1, True, True),
        ("UWV-005", "222222207", "GM0363", "gemeld", 2, True, True),
        ("UWV-006", "888888806", "GM0363", "gemeld", 2, True, True),
        ("UWV-007", "444444403", "GM0599", "gemeld", 2, True, True),
        ("UWV-008", "666666611", "GM0363", "buiten_doelgroep", 1, True, True),
        ("UWV-009", "121212105", "GM0363", "buiten_doelgroep", 1, True, True),
        ("UWV-010", "010000008", "GM0518", "gemeld", 3, True, False),
        ("UWV-011", "232323203", "GM0518", "gemeld", 3, True, False),
        ("UWV-012", "343434301", "GM0518", "na_wetswijziging_2022", 3, True, False),
        ("UWV-013", "454545411", "GM0518", "gemeld", 3, True, False),
        ("UWV-014", "111111109", "GM0363", "gemeld", 1, True, True),
        ("UWV-014", "111111109", "GM0518", "gemeld", 3, True, False),
        ("UWV-015", "565656508", "GM0014", "gemeld", 1, False, True),
        ("UWV-016", "676767606", None, "niet_routeerbaar", None, False, False),
    ]
    # the row with the invalid BSN (line 18) stays in quarantine and has no outcome
    assert query(
        data_root,
        "SELECT regel, bsn_gemaskeerd FROM quarantaine WHERE feed = 'uwv' AND bestand = 'uwv_lks_20261120.csv'",
    ) == [(18, "******789")]
    metadata = result.asset_materializations_for_node("signalen")[0].metadata
    assert {
        k: metadata[k].value
        for k in (
            "events",
            "gemeld",
            "buiten_doelgroep",
            "na_wetswijziging_2022",
            "dubbel",
            "niet_routeerbaar",
            "events in quarantaine",
        )
    } == {
        "events": 16,
        "gemeld": 13,
        "buiten_doelgroep": 2,
        "na_wetswijziging_2022": 1,
        "dubbel": 0,
        "niet_routeerbaar": 1,
        "events in quarantaine": 1,
    }
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {
        "signalen_alleen_eigen_bsn": True,
        "signalen_uitkomsten_sluitend": True,
        "signaalrapporten_rijen_gelijk_aan_gemeld": True,
    }


def test_peildatum_window_and_einddatum(verwerkt):
    data_root, _, _ = verwerkt
    rows = query(
        data_root,
        "SELECT uwv_kenmerk, product, peildatum::VARCHAR, venster_begin::VARCHAR, "
        "einddatum::VARCHAR, einddatum_afgeleid, hervatdatum::VARCHAR FROM signalen "
        "WHERE leverdatum = '2026-11-20' AND uwv_kenmerk IN ('UWV-001', 'UWV-002', 'UWV-013') "
        "ORDER BY uwv_kenmerk",
    )
    assert rows == [
        ("UWV-001", "LKS re-integratie", "2026-11-15", "2024-11-15", None, False, None),
        ("UWV-002", "LKS einde zw", "2021-06-15", "2019-06-15", "2021-12-31", False, "2022-01-01"),
        # 2021-03-01 + 104 weeks = 2023-02-27; minus one day
        ("UWV-013", "LKS einde zw", "2021-03-01", "2019-03-01", "2023-02-26", True, "2023-02-27"),
    ]


def test_report_bytes(verwerkt):
    data_root, first, _ = verwerkt
    assert first.success
    assert (
        report(data_root, "GM0363", "Re-integratie_signaalrapport")
        == (BOM + REINTEGRATIE_HEADER + "999999904;30-11-2026;15-11-2026;01-10-2026\r\n").encode()
    )
    assert (
        report(data_root, "GM0363", "LKS_einde_zw_signaalrapport")
        == (
            BOM
            + EINDE_ZW_HEADER
            + f'111111109;21-10-1988;Twee;;P.;"Bakkerij ""De Zon""; Zn";444444444L04;{Z1};;01-09-2021;;28-02-2022\r\n'
            + f"222222207;12-11-1978;Vries;de;F.;Werkplaats Noord;111111111L01;{Z2};;15-06-2021;;31-12-2021\r\n"
            + f"333333305;08-07-1976;Pietersen;;C.;Werkplaats Noord;111111111L01;{Z2};;15-06-2021;;31-12-2021\r\n"
            + f"555555501;06-05-1975;'=Jansen;;A.B.;Werkplaats Noord;111111111L01;{Z1};;15-06-2021;;31-12-2021\r\n"
            + f"777777708;10-09-1977;'+Bakker;de;D.E.;Werkplaats Noord;111111111L01;{Z1};;15-06-2021;;31-12-2021\r\n"
            + f"""888888806;13-01-1979;'@Smit;;G.;"'=HYPERLINK(""x"")";222222222L02;{Z2};;15-06-2021;;31-12-2021\r\n"""
        ).encode()
    )
    assert (
        report(data_root, "GM0599", "LKS_einde_zw_signaalrapport")
        == (
            BOM
            + EINDE_ZW_HEADER
            + f"444444403;14-03-1981;Öztürk;;H.;Zorg & Co;333333333L03;{Z2};;10-05-2021;;30-11-2021\r\n"
        ).encode()
    )
    assert (
        report(data_root, "GM0518", "Re-integratie_signaalrapport")
        == (BOM + REINTEGRATIE_HEADER + "010000008;;10-11-2026;01-09-2026\r\n").encode()
    )
    assert (
        report(data_root, "GM0518", "LKS_einde_zw_signaalrapport")
        == (
            BOM
            + EINDE_ZW_HEADER
            + f'111111109;21-10-1988;Twee;;P.;"Bakkerij ""De Zon""; Zn";444444444L04;{Z3};;01-09-2021;;28-02-2022\r\n'
            + f"232323203;18-07-1985;'-Visser;;L.;Groen B.V.;123456789L01;{Z3};;31-12-2021;;31-03-2022\r\n"
            + f"454545411;20-09-1987;Open;van der;N.O.;Groen B.V.;123456789L01;{Z3};;01-03-2021;;26-02-2023\r\n"
        ).encode()
    )
    assert (
        report(data_root, "GM0014", "Re-integratie_signaalrapport")
        == (BOM + REINTEGRATIE_HEADER + "565656508;15-11-2026;15-11-2026;01-08-2026\r\n").encode()
    )
    # no empty reports: these are all the files, and nothing else lies in the folders
    files = sorted(
        str(p.relative_to(data_root / "reports")) for p in (data_root / "reports").rglob("*")
    )
    assert files == [
        "GM0014",
        "GM0014/GM0014_Re-integratie_signaalrapport_20261120.csv",
        "GM0363",
        "GM0363/GM0363_LKS_einde_zw_signaalrapport_20261120.csv",
        "GM0363/GM0363_Re-integratie_signaalrapport_20261120.csv",
        "GM0518",
        "GM0518/GM0518_LKS_einde_zw_signaalrapport_20261120.csv",
        "GM0518/GM0518_Re-integratie_signaalrapport_20261120.csv",
        "GM0518/GM0518_Re-integratie_signaalrapport_20261121.csv",  # the second day's one report
        "GM0599",
        "GM0599/GM0599_LKS_einde_zw_signaalrapport_20261120.csv",
    ]
    for path in (data_root / "reports").rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path  # not readable by group or others
    assert (data_root / "reports").stat().st_mode & 0o077 == 0


def test_reports_are_recorded(verwerkt):
    data_root, _, _ = verwerkt
    rows = query(
        data_root,
        "SELECT gemeentecode, product, pad, aantal, length(sha256) FROM signaalrapporten "
        "WHERE leverdatum = '2026-11-20' ORDER BY ALL",
    )
    assert rows == [
        (
            "GM0014",
            "LKS re-integratie",
            "reports/GM0014/GM0014_Re-integratie_signaalrapport_20261120.csv",
            1,
            64,
        ),
        (
            "GM0363",
            "LKS einde zw",
            "reports/GM0363/GM0363_LKS_einde_zw_signaalrapport_20261120.csv",
            6,
            64,
        ),
        (
            "GM0363",
            "LKS re-integratie",
            "reports/GM0363/GM0363_Re-integratie_signaalrapport_20261120.csv",
            1,
            64,
        ),
        (
            "GM0518",
            "LKS einde zw",
            "reports/GM0518/GM0518_LKS_einde_zw_signaalrapport_20261120.csv",
            3,
            64,
        ),
        (
            "GM0518",
            "LKS re-integratie",
            "reports/GM0518/GM0518_Re-integratie_signaalrapport_20261120.csv",
            1,
            64,
        ),
        (
            "GM0599",
            "LKS einde zw",
            "reports/GM0599/GM0599_LKS_einde_zw_signaalrapport_20261120.csv",
            1,
            64,
        ),
    ]
    (sha,) = query(data_root, "SELECT sha256 FROM signaalrapporten WHERE gemeentecode = 'GM0599'")[
        0
    ]
    assert (
        sha
        == hashlib.sha256(report(data_root, "GM0599", "LKS_einde_zw_signaalrapport")).hexdigest()
    )


def test_same_kenmerk_on_a_later_day_is_dubbel(verwerkt):
    data_root, _, second = verwerkt
    assert second.success
    assert query(
        data_root,
        "SELECT uwv_kenmerk, gemeentecode, uitkomst FROM signalen "
        "WHERE leverdatum = '2026-11-21' ORDER BY uwv_kenmerk",
    ) == [("UWV-001", "GM0363", "dubbel"), ("UWV-101", "GM0518", "gemeld")]
    assert (
        report(data_root, "GM0518", "Re-integratie_signaalrapport", "20261121")
        == (BOM + REINTEGRATIE_HEADER + "010000008;20-11-2026;10-11-2026;01-09-2026\r\n").encode()
    )
    assert not (
        data_root / "reports" / "GM0363" / "GM0363_Re-integratie_signaalrapport_20261121.csv"
    ).exists()


@pytest.mark.slow
def test_two_days_in_one_run_equal_two_runs_of_one_day(verwerkt, tmp_path):
    """A range run (a catch-up) works day by day: D2 sees D1's gemeld signals (dubbel)."""
    data_root = verwerkt[0]
    range_root = tmp_path / "bereik"
    with ingested(range_root) as signaalpad:
        result = signaalpad(None, tags=partition_range_tags([D1, D2]))
    assert result.success
    per_dag = {
        (e.asset_key.to_user_string(), e.partition): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert sorted(per_dag) == [
        ("poortwachter_termijnen", D1),
        ("poortwachter_termijnen", D2),
        ("signaalrapporten", D1),
        ("signaalrapporten", D2),
        ("signalen", D1),
        ("signalen", D2),
    ]
    assert [per_dag[("signalen", d)]["dubbel"].value for d in (D1, D2)] == [0, 1]
    assert [per_dag[("signalen", d)]["gemeld"].value for d in (D1, D2)] == [13, 1]
    assert [per_dag[("signaalrapporten", d)]["rapporten geschreven"].value for d in (D1, D2)] == [
        6,
        1,
    ]
    assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()} == {
        "signalen_alleen_eigen_bsn": True,
        "signalen_uitkomsten_sluitend": True,
        "signaalrapporten_rijen_gelijk_aan_gemeld": True,
    }
    for sql in (
        "SELECT * FROM signalen ORDER BY ALL",
        "SELECT * FROM poortwachter_termijnen ORDER BY ALL",
        "SELECT * EXCLUDE (geschreven_op) FROM signaalrapporten ORDER BY ALL",
    ):
        assert query(range_root, sql) == query(data_root, sql), sql
    files = sorted(p.relative_to(data_root) for p in (data_root / "reports").rglob("*.csv"))
    assert len(files) == 7
    assert sorted(p.relative_to(range_root) for p in (range_root / "reports").rglob("*.csv")) == (
        files
    )
    for path in files:
        assert (range_root / path).read_bytes() == (data_root / path).read_bytes(), path


def test_poortwachter_termijnen(verwerkt):
    data_root, _, _ = verwerkt
    assert query(
        data_root,
        "SELECT gemeentecode, week, mijlpaal, uiterste_datum::VARCHAR FROM poortwachter_termijnen "
        "WHERE bsn = '999999904' ORDER BY week",
    ) == [
        ("GM0363", 6, "probleemanalyse", "2026-11-11"),
        ("GM0363", 8, "plan van aanpak", "2026-11-25"),
        ("GM0363", 26, "evaluatie/herijking", "2027-03-31"),
        ("GM0363", 52, "evaluatie/herijking", "2027-09-29"),
        ("GM0363", 78, "evaluatie/herijking", "2028-03-29"),
        ("GM0363", 91, "re-integratieverslag", "2028-06-28"),
    ]
    # only gemeld ZIEK_UIT_DIENST signals: P1, P10, P15 (P16 is niet_routeerbaar)
    assert query(
        data_root,
        "SELECT gemeentecode, bsn, count(*) FROM poortwachter_termijnen "
        "WHERE leverdatum = '2026-11-20' GROUP BY ALL ORDER BY ALL",
    ) == [("GM0014", "565656508", 6), ("GM0363", "999999904", 6), ("GM0518", "010000008", 6)]


@pytest.mark.slow
def test_rerun_rewrites_nothing_and_a_changed_day_drops_stale_reports(pipeline, data_root):
    pipeline(D1)
    reports = sorted((data_root / "reports").rglob("*.csv"))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in reports}
    assert pipeline(D1).success
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in reports} == before
    assert query(data_root, "SELECT count(*) FROM signalen WHERE leverdatum = '2026-11-20'") == [
        (17,)
    ]

    # GM0014 delivers a new DKD snapshot without P15: re-running the day removes its report
    write(
        data_root / "inbox" / "dkd" / "dkd_reintegratie_GM0014_20261120.xml",
        dkd_xml("GM0014", client("787878704")),
    )
    resources = resources_for(data_root)
    dg.materialize([feeds.dkd_reintegratie], resources=resources, partition_key="GM0014")
    assert pipeline(D1).success
    assert not (
        data_root / "reports" / "GM0014" / "GM0014_Re-integratie_signaalrapport_20261120.csv"
    ).exists()
    assert query(
        data_root, "SELECT count(*) FROM signaalrapporten WHERE gemeentecode = 'GM0014'"
    ) == [(0,)]
    assert query(data_root, "SELECT uitkomst FROM signalen WHERE uwv_kenmerk = 'UWV-015'") == [
        ("niet_routeerbaar",)
    ]


@pytest.mark.slow
def test_leftover_temp_files_are_removed(pipeline, data_root):
    folder = data_root / "reports" / "GM0363"
    folder.mkdir(parents=True)
    leftover = folder / ".GM0363_Re-integratie_signaalrapport_20261120.csv.x1y2.tmp"
    leftover.write_bytes(b"half")
    pipeline(D1)
    assert not leftover.exists()


def test_a_leaking_routing_is_blocked_and_writes_no_report(pipeline, data_root, monkeypatch):
    leaking = (
        signalen.ROUTERING_SQL  # noqa: S608 (our own SQL)
        + " UNION ALL SELECT 'GM0344', bsn, true, false FROM uwv_events WHERE leverdatum = $dag"
    )
    monkeypatch.setattr(signalen, "ROUTERING_SQL", leaking)
    result = pipeline(D1, raise_on_error=False)
    assert not result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["signalen_alleen_eigen_bsn"].passed
    assert checks["signalen_alleen_eigen_bsn"].metadata["rijen"].value == 16  # every event
    assert checks["signalen_alleen_eigen_bsn"].metadata["gemeenten"].value == 1
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"signalen"}  # signaalrapporten and poortwachter_termijnen blocked
    assert not (data_root / "reports").exists() or not any((data_root / "reports").rglob("*.csv"))

    # and the report asset refuses on its own when run alone against the leaking table
    resources = resources_for(data_root)
    alone = dg.materialize(
        [rapporten.signaalrapporten], resources=resources, partition_key=D1, raise_on_error=False
    )
    assert not alone.success
    assert not (data_root / "reports").exists() or not any((data_root / "reports").rglob("*.csv"))


def test_signalen_refuses_without_reference_data(data_root):
    build_inbox(data_root)
    resources = resources_for(data_root)
    result = dg.materialize(
        [signalen.signalen], resources=resources, partition_key=D1, raise_on_error=False
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "doelgroepregister_codes is leeg" in failure.event_specific_data.error.message


@pytest.mark.slow
def test_a_rejected_redelivery_keeps_the_day_and_its_reports(pipeline, data_root):
    assert pipeline(D1).success
    before = report(data_root, "GM0363", "LKS_einde_zw_signaalrapport")
    write(data_root / "inbox" / "uwv" / "uwv_lks_20261120.csv", UWV_D1.replace(";", ","))
    ingest = dg.materialize(
        [feeds.uwv_events], resources=resources_for(data_root), partition_key=D1
    )
    assert ingest.success
    again = pipeline(D1)
    assert again.success
    assert query(data_root, "SELECT count(*) FROM signalen WHERE leverdatum = '2026-11-20'") == [
        (17,)
    ]
    assert report(data_root, "GM0363", "LKS_einde_zw_signaalrapport") == before
