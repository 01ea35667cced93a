"""Ingest assets through Dagster: partitions replaced whole, history kept, nothing half-written."""

import dataclasses
import logging
import os

import dagster as dg
import duckdb
import pytest

from lks_pipeline.automation import plan
from lks_pipeline.core.partitions import partition_range_tags
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import ensure_schema, transaction
from lks_pipeline.ingest import assets as feeds
from lks_pipeline.ingest import csv_feeds as csvfeeds
from lks_pipeline.referentie import assets as referentie
from lks_pipeline_tests.conftest import INSTELLINGEN_HEADER, UWV_HEADER, dkd_xml, write


@pytest.fixture
def run(data_root):
    database = str(data_root / "warehouse" / "lks.duckdb")
    resources = {
        "lks": LksSettings(data_dir=str(data_root)),
        "duckdb": Warehouse(database=database),
    }
    with dg.instance_for_test() as instance:

        def materialize(asset, partition=None):
            return dg.materialize(
                [asset], resources=resources, partition_key=partition, instance=instance
            )

        materialize.instance = instance
        yield materialize


def query(data_root, sql):
    with duckdb.connect(str(data_root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def vi(data_root, name, text):
    return write(data_root / "inbox" / "verwijsindex" / name, text)


def test_reference_tables(run, data_root):
    run(referentie.gemeenten)
    run(referentie.doelgroepregister_codes)
    assert query(data_root, "SELECT count(*), count(DISTINCT provincie) FROM gemeenten") == [
        (342, 12)
    ]
    assert query(data_root, "SELECT gemeentenaam FROM gemeenten WHERE gemeentecode = 'GM0363'") == [
        ("Amsterdam",)
    ]
    assert query(
        data_root, "SELECT string_agg(code, ',' ORDER BY code) FROM doelgroepregister_codes"
    ) == [("01,02,05,06,20,22,23,24,40,54,55",)]


def test_verwijsindex_rerun_replaces_without_duplicates(run, data_root):
    vi(
        data_root,
        "verwijsindex_GM0363_20261120.csv",
        "bsn;cluster\n123456782;Uitkeringen\n010000008;Reintegratie\n123456781;Debiteuren\n",
    )
    vi(data_root, "verwijsindex_GM0599_20261120.csv", "bsn;cluster\n111222333;Uitkeringen\n")
    run(feeds.verwijsindex, "GM0599")
    for _ in range(2):
        result = run(feeds.verwijsindex, "GM0363")
    assert query(
        data_root,
        "SELECT gemeentecode, bsn, cluster, leverdatum::VARCHAR FROM verwijsindex ORDER BY ALL",
    ) == [
        ("GM0363", "010000008", "Reintegratie", "2026-11-20"),
        ("GM0363", "123456782", "Uitkeringen", "2026-11-20"),
        ("GM0599", "111222333", "Uitkeringen", "2026-11-20"),
    ]
    assert query(data_root, "SELECT bestand, regel, bsn_gemaskeerd, reden FROM quarantaine") == [
        (
            "verwijsindex_GM0363_20261120.csv",
            4,
            "******781",
            "bsn: geen geldig BSN (9 cijfers, elfproef)",
        )
    ]
    assert query(
        data_root,
        "SELECT bestand, status, regels_geladen, regels_gequarantaineerd FROM leveringen ORDER BY bestand",
    ) == [
        ("verwijsindex_GM0363_20261120.csv", "geladen", 2, 1),
        ("verwijsindex_GM0599_20261120.csv", "geladen", 1, 0),
    ]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/partition_row_count"].value == 2
    assert metadata["regels in quarantaine"].value == 1


def test_one_run_over_a_range_records_each_partition_on_its_own(data_root):
    """GM0014..GM0037 in one run: a good file, no file, a file rejected whole (rules 4.2)."""
    vi(data_root, "verwijsindex_GM0014_20261120.csv", "bsn;cluster\n123456782;Uitkeringen\n")
    vi(data_root, "verwijsindex_GM0037_20261120.csv", "bsn,cluster\n010000008,Debiteuren\n")
    vi(data_root, "verwijsindex_GM0363_20261120.csv", "bsn;cluster\n111222333;Uitkeringen\n")
    resources = {
        "lks": LksSettings(data_dir=str(data_root)),
        "duckdb": Warehouse(database=str(data_root / "warehouse" / "lks.duckdb")),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [feeds.verwijsindex],
            resources=resources,
            instance=instance,
            tags=partition_range_tags(["GM0037", "GM0014"]),
        )
        events = {
            e.partition: {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()
        }
        assert sorted(events) == ["GM0014", "GM0034", "GM0037"]
        assert events["GM0014"]["dagster/partition_row_count"] == 1
        assert events["GM0014"]["bestand"] == "verwijsindex_GM0014_20261120.csv"
        assert events["GM0034"]["bestanden in inbox"] == 0
        assert "dagster/partition_row_count" not in events["GM0034"]
        assert events["GM0037"]["bestanden afgewezen"] == 1
        assert "bestand" not in events["GM0037"]
        tasks = plan.ingest_tasks(data_root / "inbox", feeds=("verwijsindex",))
        assert [t.name for t in plan.behind(instance, tasks)] == ["verwijsindex GM0363"]
    assert query(data_root, "SELECT gemeentecode, bsn FROM verwijsindex") == [
        ("GM0014", "123456782")
    ]
    assert query(data_root, "SELECT bestand, status FROM leveringen ORDER BY bestand") == [
        ("verwijsindex_GM0014_20261120.csv", "geladen"),
        ("verwijsindex_GM0037_20261120.csv", "afgewezen"),
    ]


def test_newer_snapshot_replaces_and_rejected_one_keeps_previous(run, data_root):
    vi(data_root, "verwijsindex_GM0363_20261101.csv", "bsn;cluster\n123456782;Uitkeringen\n")
    run(feeds.verwijsindex, "GM0363")
    vi(data_root, "verwijsindex_GM0363_20261108.csv", "bsn;cluster\n010000008;Debiteuren\n")
    run(feeds.verwijsindex, "GM0363")
    assert query(data_root, "SELECT bsn, leverdatum::VARCHAR FROM verwijsindex") == [
        ("010000008", "2026-11-08")
    ]
    vi(data_root, "verwijsindex_GM0363_20261115.csv", "bsn,cluster\n111222333,Uitkeringen\n")
    result = run(feeds.verwijsindex, "GM0363")
    assert result.success
    assert query(data_root, "SELECT bsn, leverdatum::VARCHAR FROM verwijsindex") == [
        ("010000008", "2026-11-08")
    ]
    assert query(data_root, "SELECT bestand, status, reden FROM leveringen ORDER BY bestand") == [
        ("verwijsindex_GM0363_20261101.csv", "vervangen", None),
        ("verwijsindex_GM0363_20261108.csv", "geladen", None),
        ("verwijsindex_GM0363_20261115.csv", "afgewezen", "scheidingsteken is niet ';'"),
    ]
    assert query(data_root, "SELECT bestand, regel, reden FROM quarantaine") == [
        ("verwijsindex_GM0363_20261115.csv", 1, "scheidingsteken is niet ';'")
    ]


def test_dkd_partition_and_rejection_keeps_previous(run, data_root):
    folder = data_root / "inbox" / "dkd"
    client = (
        "<Client><BSN>123456782</BSN><Doelgroep><Code>01</Code><Begindatum>2023-01-01</Begindatum>"
        "</Doelgroep><ReintegratieInzet><Soort>Loonkostensubsidie</Soort>"
        "<Begindatum>2024-03-01</Begindatum><Loonkostensubsidie><Begindatum>2024-03-01</Begindatum>"
        "<PercentageLoonwaarde>65.0</PercentageLoonwaarde></Loonkostensubsidie>"
        "</ReintegratieInzet></Client>\n<Client><BSN>123456781</BSN></Client>\n"
    )
    write(folder / "dkd_reintegratie_GM0363_20261113.xml", dkd_xml("GM0363", client))
    run(feeds.dkd_reintegratie, "GM0363")
    write(folder / "dkd_reintegratie_GM0363_20261120.xml", dkd_xml("GM0599", client))
    run(feeds.dkd_reintegratie, "GM0363")
    assert query(
        data_root,
        "SELECT gemeentecode, bsn, bron, leverdatum::VARCHAR, berichtversie, regel FROM dkd_reintegratie",
    ) == [
        ("GM0363", "123456782", "verzamelbestand", "2026-11-13", "GSDDossierReintegratie-v0200", 4)
    ]
    assert query(data_root, "SELECT bsn, code FROM dkd_doelgroepen") == [("123456782", "01")]
    assert query(data_root, "SELECT bsn, inzet_nr, soort FROM dkd_inzetten") == [
        ("123456782", 1, "Loonkostensubsidie")
    ]
    assert query(data_root, "SELECT bsn, percentage_loonwaarde FROM dkd_loonkostensubsidies") == [
        ("123456782", 65.0)
    ]
    assert query(
        data_root, "SELECT bestand, regel, bsn_gemaskeerd, reden FROM quarantaine ORDER BY bestand"
    ) == [
        ("dkd_reintegratie_GM0363_20261113.xml", 5, "******781", "BSN: geen geldig BSN (elfproef)"),
        (
            "dkd_reintegratie_GM0363_20261120.xml",
            3,
            None,
            "Stuurgegevens noemen gemeente GM0599, de bestandsnaam GM0363",
        ),
    ]


def test_uwv_day_partition(run, data_root):
    path = data_root / "inbox" / "uwv" / "uwv_lks_20261120.csv"
    write(
        path,
        UWV_HEADER
        + "\nK1;EINDE_ZW;010000008;1980-01-01;Jansen;;J.;;;;;;2021-06-01;\nK2;EINDE_ZW;123456781;;;;;;;;;;;\n",
    )
    for _ in range(2):
        run(feeds.uwv_events, "2026-11-20")
    assert query(
        data_root,
        "SELECT leverdatum::VARCHAR, regel, uwv_kenmerk, bsn, begindatum_zw_uitkering::VARCHAR FROM uwv_events",
    ) == [("2026-11-20", 2, "K1", "010000008", "2021-06-01")]
    assert query(data_root, "SELECT count(*) FROM quarantaine") == [(1,)]
    assert run(feeds.uwv_events, "2026-11-19").success  # a day without a file changes nothing
    assert query(data_root, "SELECT count(*) FROM uwv_events") == [(1,)]


def test_instellingen_keep_every_snapshot_and_actueel_is_newest(run, data_root):
    folder = data_root / "inbox" / "dkd"
    row = "GM0363;verzamelbestand;GSDDossierReintegratie-v{};;wekelijks;lks@example.nl\n"
    write(folder / "dkd_instellingen_20261001.csv", INSTELLINGEN_HEADER + "\n" + row.format("0100"))
    write(folder / "dkd_instellingen_20261101.csv", INSTELLINGEN_HEADER + "\n" + row.format("0200"))
    run(feeds.dkd_instellingen)
    run(feeds.dkd_instellingen)
    assert query(
        data_root, "SELECT leverdatum::VARCHAR, berichtversie FROM dkd_instellingen ORDER BY 1"
    ) == [
        ("2026-10-01", "GSDDossierReintegratie-v0100"),
        ("2026-11-01", "GSDDossierReintegratie-v0200"),
    ]
    assert query(data_root, "SELECT gemeentecode, berichtversie FROM dkd_instellingen_actueel") == [
        ("GM0363", "GSDDossierReintegratie-v0200")
    ]


def test_unreadable_inbox_entries_are_recorded_once(run, data_root):
    write(data_root / "inbox" / "uwv" / "uwv_lks_20261120.txt", "x")
    write(data_root / "inbox" / "verwijsindex" / "verwijsindex_GM9999_20261120.csv", "x")
    os.symlink(
        "/etc/passwd", data_root / "inbox" / "verwijsindex" / "verwijsindex_GM0363_20261120.csv"
    )
    run(feeds.inbox_bestandsnamen)
    run(feeds.inbox_bestandsnamen)
    assert query(data_root, "SELECT feed, bestand, reden FROM quarantaine ORDER BY bestand") == [
        ("uwv", "uwv_lks_20261120.txt", "bestandsnaam past niet in het patroon van deze feed"),
        (
            "verwijsindex",
            "verwijsindex_GM0363_20261120.csv",
            "symbolische link: wordt niet gelezen",
        ),
        (
            "verwijsindex",
            "verwijsindex_GM9999_20261120.csv",
            "gemeentecode GM9999 staat niet in de CBS-lijst",
        ),
    ]
    assert query(data_root, "SELECT count(*) FROM leveringen WHERE status = 'afgewezen'") == [(3,)]


def test_metadata_and_logs_never_hold_a_bsn(run, data_root):
    vi(
        data_root,
        "verwijsindex_GM0363_20261120.csv",
        "bsn;cluster\n123456782;Uitkeringen\n123456781;Debiteuren\n",
    )
    result = run(feeds.verwijsindex, "GM0363")
    shown = " ".join(
        str(v.value)
        for event in result.get_asset_materialization_events()
        for v in event.materialization.metadata.values()
    ) + " ".join(str(e.message) for e in result.all_events)
    assert "123456782" not in shown
    assert "123456781" not in shown
    assert "******781" in shown


def test_a_failed_write_leaves_nothing_half_written(tmp_path):
    database = str(tmp_path / "lks.duckdb")
    with duckdb.connect(database) as conn:
        ensure_schema(conn)
        conn.execute(
            "INSERT INTO verwijsindex VALUES ('GM0363', '123456782', 'Uitkeringen', '2026-11-01', 'a.csv')"
        )

        def crash_halfway():
            with transaction(conn, "verwijsindex"):
                conn.execute("DELETE FROM verwijsindex WHERE gemeentecode = 'GM0363'")
                raise RuntimeError("crash halfway")

        with pytest.raises(RuntimeError):
            crash_halfway()
        # the connection is usable again: no transaction left open
        with transaction(conn, "verwijsindex"):
            conn.execute("SELECT 1")
        assert conn.execute("SELECT bsn FROM verwijsindex").fetchall() == [("123456782",)]


def test_known_untouched_files_are_not_hashed_again(run, data_root, monkeypatch):
    from lks_pipeline.ingest.inbox import Levering

    old = vi(data_root, "verwijsindex_GM0363_20261101.csv", "bsn;cluster\n123456782;Uitkeringen\n")
    vi(data_root, "verwijsindex_GM0363_20261108.csv", "bsn;cluster\n010000008;Debiteuren\n")
    run(feeds.verwijsindex, "GM0363")
    hashed = []
    original = Levering.sha256
    monkeypatch.setattr(
        Levering, "sha256", lambda self: hashed.append(self.bestand) or original(self)
    )

    run(feeds.verwijsindex, "GM0363")
    assert hashed == []

    stat = old.stat()
    os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime
    result = run(feeds.verwijsindex, "GM0363")
    assert hashed == ["verwijsindex_GM0363_20261101.csv"]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["bestanden gelezen"].value == 1  # only the newest, for its rows
    assert query(data_root, "SELECT bsn FROM verwijsindex") == [("010000008",)]
    assert query(data_root, "SELECT bestand, status FROM leveringen ORDER BY bestand") == [
        ("verwijsindex_GM0363_20261101.csv", "vervangen"),
        ("verwijsindex_GM0363_20261108.csv", "geladen"),
    ]


def test_a_file_that_changes_while_being_read_is_left_whole_for_the_next_run(
    run, data_root, monkeypatch
):
    """A gemeente's upload still in progress when the run reads it: nothing of it is taken, the
    snapshot before it stays, and the next run reads the file whole."""
    vi(data_root, "verwijsindex_GM0363_20261101.csv", "bsn;cluster\n123456782;Uitkeringen\n")
    run(feeds.verwijsindex, "GM0363")
    new_files = vi(
        data_root, "verwijsindex_GM0363_20261108.csv", "bsn;cluster\n010000008;Debiteuren\n"
    )
    read = csvfeeds.read_verwijsindex

    def gelezen_terwijl_de_upload_loopt(levering):
        parsed = read(levering)
        if levering.bestand == new_files.name:
            with new_files.open("a") as f:
                f.write("111111109;Uitkeringen\n")  # the upload's last line arrives
        return parsed

    spec = dataclasses.replace(feeds.VERWIJSINDEX, reader=gelezen_terwijl_de_upload_loopt)
    monkeypatch.setattr(feeds, "VERWIJSINDEX", spec)
    result = run(feeds.verwijsindex, "GM0363")

    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["bestanden uitgesteld"].value == 1
    assert metadata["bestanden gelezen"].value == 0
    warnings = [
        e.user_message for e in run.instance.all_logs(result.run_id) if e.level == logging.WARNING
    ]
    assert warnings == [
        "verwijsindex_GM0363_20261108.csv: veranderde terwijl het gelezen werd (wordt nog "
        "geschreven of is vervangen); niets ervan verwerkt, de volgende run leest het opnieuw"
    ]
    assert query(data_root, "SELECT bsn, leverdatum::VARCHAR FROM verwijsindex") == [
        ("123456782", "2026-11-01")
    ]
    assert query(data_root, "SELECT bestand, status FROM leveringen") == [
        ("verwijsindex_GM0363_20261101.csv", "geladen")
    ]
    assert query(data_root, "SELECT count(*) FROM quarantaine") == [(0,)]

    monkeypatch.undo()
    run(feeds.verwijsindex, "GM0363")
    assert query(data_root, "SELECT bsn, leverdatum::VARCHAR FROM verwijsindex ORDER BY bsn") == [
        ("010000008", "2026-11-08"),
        ("111111109", "2026-11-08"),
    ]
    assert query(data_root, "SELECT bestand, status FROM leveringen ORDER BY bestand") == [
        ("verwijsindex_GM0363_20261101.csv", "vervangen"),
        ("verwijsindex_GM0363_20261108.csv", "geladen"),
    ]
