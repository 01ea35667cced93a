"""CSV feeds (rules 4.1, 4.2, 4.5): exact loaded rows and exact quarantine reasons by line."""

import datetime as dt
from pathlib import Path

import pytest

from lks_pipeline.ingest import csv_feeds as csvfeeds
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline_tests.conftest import INSTELLINGEN_HEADER, UWV_HEADER, write


def levering(path: Path, feed: str, leverdatum=dt.date(2026, 11, 20), gemeentecode=None):
    stat = path.stat()
    return Levering(feed, path, leverdatum, gemeentecode, stat.st_size, stat.st_mtime_ns)


def quarantaine(parsed):
    return [(q.regel, q.bsn_gemaskeerd, q.reden) for q in parsed.quarantaine]


def test_verwijsindex_rows_and_quarantine(tmp_path):
    path = write(
        tmp_path / "verwijsindex_GM0363_20261120.csv",
        "\ufeffbsn;cluster\n"  # a BOM is accepted
        "123456782;Uitkeringen\n"
        "010000008;Reintegratie\n"
        "123456781;Debiteuren\n"  # elfproef fails
        "10000008;Debiteuren\n"  # leading zero lost by a spreadsheet: invalid, never padded
        "111222333;Onbekend\n"  # unknown cluster
        "123456782;Uitkeringen\n"  # same bsn and cluster again
        "123456782;Debiteuren\n"  # same bsn, another cluster: fine
        "123456782;Debiteuren;extra\n"  # too many fields
        ";\n",  # every field empty: broken like any other row, not skipped
    )
    parsed = csvfeeds.read_verwijsindex(levering(path, "verwijsindex", gemeentecode="GM0363"))
    assert parsed.tables["verwijsindex"].values.tolist() == [
        ["123456782", "Uitkeringen"],
        ["010000008", "Reintegratie"],
        ["123456782", "Debiteuren"],
    ]
    assert quarantaine(parsed) == [
        (4, "******781", "bsn: geen geldig BSN (9 cijfers, elfproef)"),
        (5, "******008", "bsn: geen geldig BSN (9 cijfers, elfproef)"),
        (6, "******333", "cluster: geen bekend DKD-cluster"),
        (7, "******782", "dezelfde bsn en cluster komt eerder in het bestand voor"),
        (9, None, "te veel velden"),
        (10, "***", "bsn: geen geldig BSN (9 cijfers, elfproef); cluster: geen bekend DKD-cluster"),
    ]


def test_rejected_lines_belong_to_their_own_file(tmp_path):
    """Reads share one DuckDB database; one file's rejected lines never show up in the next."""
    kapot = write(tmp_path / "verwijsindex_GM0363_20261120.csv", "bsn;cluster\n1;a;b\n")
    heel = write(tmp_path / "verwijsindex_GM0014_20261120.csv", "bsn;cluster\n")
    assert quarantaine(csvfeeds.read_verwijsindex(levering(kapot, "verwijsindex"))) == [
        (2, None, "te veel velden")
    ]
    assert quarantaine(csvfeeds.read_verwijsindex(levering(heel, "verwijsindex"))) == []
    assert len(quarantaine(csvfeeds.read_verwijsindex(levering(kapot, "verwijsindex")))) == 1


def test_empty_snapshot_is_valid(tmp_path):
    path = write(tmp_path / "verwijsindex_GM0363_20261120.csv", "bsn;cluster\n")
    parsed = csvfeeds.read_verwijsindex(levering(path, "verwijsindex", gemeentecode="GM0363"))
    assert len(parsed.tables["verwijsindex"]) == 0
    assert parsed.quarantaine == []


UWV_ROWS = [
    # 2: a good ZIEK_UIT_DIENST with an employer name holding quotes and ';'
    'K1;ZIEK_UIT_DIENST;123456782;;;;;"Bakkerij ""De Zoete Inval""; Noord";123456789L01;'
    "2026-09-01;2026-10-31;2026-10-31;;",
    # 3: a good EINDE_ZW without einddatum and with an odd loonheffingennummer (a warning)
    "K2;EINDE_ZW;010000008;1980-02-29;=Jansen;van der;J.P.;@Work;12345L01;;;;2021-12-31;",
    # 4: the same uwv_kenmerk again
    "K1;EINDE_ZW;111222333;1980-01-01;Smit;;A.;;;;;;2021-06-01;2021-09-01",
    # 5: invalid BSN and an unknown berichttype
    "K3;ZIEK;123456781;;;;;;;2026-01-01;2026-02-01;;;",
    # 6: EINDE_ZW missing achternaam, voorletters and begindatum_zw_uitkering
    "K4;EINDE_ZW;999999990;1970-05-05;;;;;;;;;;",
    # 7: impossible date, and einde arbeidsverhouding before eerste AO-dag
    "K5;ZIEK_UIT_DIENST;100000009;;;;;;;2021-02-30;2021-01-01;;;",
    # 8: geboortedatum after the delivery date, einddatum before begindatum
    "K6;EINDE_ZW;200000007;2026-11-21;Visser;;B.;;;;;;2021-05-01;2021-04-30",
    # 9: ZIEK_UIT_DIENST missing both of its required dates; uwv_kenmerk empty
    ";ZIEK_UIT_DIENST;123456782;;;;;;;;;;;",
    # 10: every field empty (pandera's default ignore_na would pass this row on every check)
    ";;;;;;;;;;;;;",
]


def test_uwv_rows_and_quarantine(tmp_path):
    path = write(tmp_path / "uwv_lks_20261120.csv", UWV_HEADER + "\n" + "\n".join(UWV_ROWS) + "\n")
    parsed = csvfeeds.read_uwv(levering(path, "uwv"))
    rows = parsed.tables["uwv_events"]
    assert rows["regel"].tolist() == [2, 3]
    assert rows["uwv_kenmerk"].tolist() == ["K1", "K2"]
    assert rows["naam_administratieve_eenheid"].tolist() == [
        'Bakkerij "De Zoete Inval"; Noord',
        "@Work",
    ]
    assert rows["bsn"].tolist() == ["123456782", "010000008"]
    assert rows["loonheffingennummer_geldig"].tolist() == [True, False]
    assert rows["einddatum_zw_uitkering"].tolist() == [None, None]
    assert parsed.warning_counts == {"loonheffingennummer afwijkend": 1}
    assert quarantaine(parsed) == [
        (4, "******333", "uwv_kenmerk komt eerder in het bestand voor"),
        (5, "******781", "berichttype: niet ZIEK_UIT_DIENST of EINDE_ZW; "
                         "bsn: geen geldig BSN (9 cijfers, elfproef)"),
        (6, "******990", "achternaam: ontbreekt (verplicht bij EINDE_ZW); "
                         "voorletters: ontbreekt (verplicht bij EINDE_ZW); "
                         "begindatum_zw_uitkering: ontbreekt (verplicht bij EINDE_ZW)"),
        (7, "******009", "datum_eerste_ao_dag: geen geldige datum (JJJJ-MM-DD)"),
        (8, "******007", "geboortedatum: ligt na de leverdatum; "
                         "einddatum_zw_uitkering: ligt voor begindatum_zw_uitkering"),
        (9, "******782", "uwv_kenmerk: ontbreekt; "
                         "datum_eerste_ao_dag: ontbreekt (verplicht bij ZIEK_UIT_DIENST); "
                         "datum_einde_arbeidsverhouding: ontbreekt "
                         "(verplicht bij ZIEK_UIT_DIENST)"),
        (10, "***", "uwv_kenmerk: ontbreekt; "
                    "berichttype: niet ZIEK_UIT_DIENST of EINDE_ZW; "
                    "bsn: geen geldig BSN (9 cijfers, elfproef)"),
    ]  # fmt: skip


def test_line_numbers_stay_physical_with_blank_lines_and_quoted_newlines(tmp_path):
    rows = UWV_ROWS[:2]
    text = (
        UWV_HEADER
        + "\n\n"  # line 2 is blank
        + rows[0]
        + "\n"  # line 3
        + 'K9;EINDE_ZW;111222333;1980-01-01;"Multi\nRegel";;A.;;;;;;2021-06-01;\n'  # lines 4-5
        + "K10;ZIEK;123456781;;;;;;;;;;;\n"  # line 6: bad
        + rows[1]
        + "\n"  # line 7
    )
    path = write(tmp_path / "uwv_lks_20261120.csv", text)
    parsed = csvfeeds.read_uwv(levering(path, "uwv"))
    assert parsed.tables["uwv_events"]["regel"].tolist() == [3, 4, 7]
    assert [q.regel for q in parsed.quarantaine] == [6]


def test_instellingen_rows_and_quarantine(tmp_path):
    path = write(
        tmp_path / "dkd_instellingen_20261120.csv",
        INSTELLINGEN_HEADER + "\n"
        "GM0363;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;lks@amsterdam.example.nl\n"
        "GM0599;webservice;GSDDossierReintegratie-v0100;https://dkd.rotterdam.example.nl/GSDDossierReintegratie-v0200;;\n"
        "GM9999;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;\n"
        "GM0363;verzamelbestand;GSDDossierReintegratie-v0200;;maandelijks;\n"
        "GM0518;webservice;v0200;;dagelijks;geen-adres\n"
        "GM0344;verzamelbestand;GSDDossierReintegratie-v0200;https://x.example.nl/;;\n",
    )
    parsed = csvfeeds.read_instellingen(levering(path, "dkd_instellingen"))
    assert parsed.tables["dkd_instellingen"]["gemeentecode"].tolist() == ["GM0363", "GM0599"]
    assert quarantaine(parsed) == [
        (4, None, "gemeentecode: staat niet in de CBS-lijst"),
        (5, None, "gemeentecode komt eerder in het bestand voor"),
        (6, None, "berichtversie: niet van de vorm GSDDossierReintegratie-vNNNN; "
                  "url: ontbreekt (verplicht bij webservice); "
                  "leverfrequentie: niet wekelijks of maandelijks; "
                  "notificatie_email: geen geldig e-mailadres"),
        (7, None, "url: alleen in te vullen bij webservice; "
                  "leverfrequentie: ontbreekt (verplicht bij verzamelbestand)"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "reden", "regel"),
    [
        (b"", "is leeg: de kopregel ontbreekt", None),
        (b"bsn,cluster\n123456782,Uitkeringen\n", "scheidingsteken is niet ';'", 1),
        (b"bsn;cluster;extra\n", "kopregel klopt niet (onbekende kolommen: extra)", 1),
        (b"bsn\n", "kopregel klopt niet (ontbrekende kolommen: cluster)", 1),
        (b"bsn;bsn;cluster\n", "kopregel klopt niet (dubbele kolommen: bsn)", 1),
        (
            b"bsn;cluster\n123456782;Uitkeringen\n123456782;Bijzondere bijstand \xe9\n",
            "is geen geldige UTF-8",
            3,
        ),
        (
            "bsn;cluster\n123456782;Uitkeringen\n".encode("utf-16"),
            "is UTF-16 gecodeerd, niet UTF-8",
            1,
        ),
        (
            "bsn;cluster\n123456782;Bijzondere bijstand é\n".encode("latin-1"),
            "is geen geldige UTF-8",
            2,
        ),
        (b"bsn;cluster\n123456782;Uit\x00keringen\n", "bevat NUL-tekens", 2),
    ],
)
def test_whole_file_rejections_name_file_and_line(tmp_path, content, reden, regel):
    path = write(tmp_path / "verwijsindex_GM0363_20261120.csv", content)
    with pytest.raises(FileRejected) as rejected:
        csvfeeds.read_verwijsindex(levering(path, "verwijsindex", gemeentecode="GM0363"))
    assert (rejected.value.bestand, rejected.value.reden, rejected.value.regel) == (
        "verwijsindex_GM0363_20261120.csv",
        reden,
        regel,
    )
    waar = f", regel {regel}" if regel else ""
    assert str(rejected.value) == f"verwijsindex_GM0363_20261120.csv{waar}: {reden}"


def test_a_file_without_header_is_rejected_without_echoing_its_first_row(tmp_path):
    row = "K1;EINDE_ZW;010000008;1980-01-01;Jansen;;J.;;;;;;2021-06-01;"
    path = write(tmp_path / "uwv_lks_20261120.csv", row + "\n")
    with pytest.raises(FileRejected) as rejected:
        csvfeeds.read_uwv(levering(path, "uwv"))
    assert rejected.value.regel == 1
    assert "010000008" not in str(rejected.value)
    assert "Jansen" not in str(rejected.value)
    assert rejected.value.reden.endswith("; onbekende kolommen: 14 die geen kolomnaam lijken)")


def test_an_enormous_line_is_quarantined_alone(tmp_path):
    path = write(
        tmp_path / "verwijsindex_GM0363_20261120.csv",
        "bsn;cluster\n123456782;" + "x" * 3_000_000 + "\n010000008;Uitkeringen\n",
    )
    parsed = csvfeeds.read_verwijsindex(levering(path, "verwijsindex", gemeentecode="GM0363"))
    assert parsed.tables["verwijsindex"]["bsn"].tolist() == ["010000008"]
    assert quarantaine(parsed) == [(2, None, "regel is langer dan 2 MiB")]
