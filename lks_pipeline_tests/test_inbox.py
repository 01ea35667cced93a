import datetime as dt
import os

from lks_pipeline.ingest import inbox
from lks_pipeline_tests.conftest import write


def test_names_map_to_feed_partition_and_date(data_root):
    root = data_root / "inbox"
    write(root / "uwv" / "uwv_lks_20261120.csv", "x")
    write(root / "verwijsindex" / "verwijsindex_GM0363_20261119.csv", "x")
    write(root / "dkd" / "dkd_reintegratie_GM0599_20261118.xml", "x")
    write(root / "dkd" / "dkd_instellingen_20261117.csv", "x")
    leveringen, onleesbaar = inbox.scan(root)
    assert onleesbaar == []
    assert [(lv.feed, lv.gemeentecode, lv.leverdatum) for lv in leveringen] == [
        ("dkd_instellingen", None, dt.date(2026, 11, 17)),
        ("dkd_reintegratie", "GM0599", dt.date(2026, 11, 18)),
        ("uwv", None, dt.date(2026, 11, 20)),
        ("verwijsindex", "GM0363", dt.date(2026, 11, 19)),
    ]


def test_bad_entries_are_reported_not_read(data_root, tmp_path_factory):
    root = data_root / "inbox"
    outside = tmp_path_factory.mktemp("buiten") / "geheim.csv"
    write(outside, "bsn;cluster\n")
    write(root / "uwv" / "uwv_lks_2026112.csv", "x")
    write(root / "uwv" / "uwv_lks_20210230.csv", "x")
    write(root / "uwv" / "uwv_lks_00001120.csv", "x")  # there is no year 0
    write(root / "uwv" / "uwv_lks_\u0662\u0660\u0662\u0666\u0661\u0661\u0662\u0660.csv", "x")
    write(root / "verwijsindex" / "verwijsindex_GM9999_20261120.csv", "x")
    write(root / "verwijsindex" / "verwijsindex_gm0363_20261120.csv", "x")
    write(root / "dkd" / "dkd_reintegratie_GM0363_20261120.xml.tmp", "x")
    (root / "dkd" / "submap").mkdir()
    os.symlink(outside, root / "verwijsindex" / "verwijsindex_GM0363_20261121.csv")
    leveringen, onleesbaar = inbox.scan(root)
    assert leveringen == []
    assert sorted((e.feed, e.bestand, e.reden) for e in onleesbaar) == [
        (
            "dkd",
            "dkd_reintegratie_GM0363_20261120.xml.tmp",
            "bestandsnaam past niet in het patroon van deze feed",
        ),
        ("dkd", "submap", "geen gewoon bestand"),
        ("uwv", "uwv_lks_00001120.csv", "datum 00001120 in de bestandsnaam bestaat niet"),
        ("uwv", "uwv_lks_20210230.csv", "datum 20210230 in de bestandsnaam bestaat niet"),
        ("uwv", "uwv_lks_2026112.csv", "bestandsnaam past niet in het patroon van deze feed"),
        # Arabic-Indic digits: int() would read them as 20261120
        (
            "uwv",
            "uwv_lks_\u0662\u0660\u0662\u0666\u0661\u0661\u0662\u0660.csv",
            "bestandsnaam past niet in het patroon van deze feed",
        ),
        (
            "verwijsindex",
            "verwijsindex_GM0363_20261121.csv",
            "symbolische link: wordt niet gelezen",
        ),
        (
            "verwijsindex",
            "verwijsindex_GM9999_20261120.csv",
            "gemeentecode GM9999 staat niet in de CBS-lijst",
        ),
        (
            "verwijsindex",
            "verwijsindex_gm0363_20261120.csv",
            "bestandsnaam past niet in het patroon van deze feed",
        ),
    ]


def test_fingerprint_changes_with_content_size_or_mtime(data_root):
    path = write(data_root / "inbox" / "uwv" / "uwv_lks_20261120.csv", "a")
    first = inbox.fingerprint(inbox.scan(data_root / "inbox")[0])
    assert inbox.fingerprint(inbox.scan(data_root / "inbox")[0]) == first
    path.write_text("ab")
    assert inbox.fingerprint(inbox.scan(data_root / "inbox")[0]) != first


def test_a_feed_folder_that_leads_outside_the_inbox_is_not_read(data_root, tmp_path_factory):
    elders = tmp_path_factory.mktemp("elders")
    write(elders / "uwv_lks_20261120.csv", "x")
    os.symlink(elders, data_root / "inbox" / "uwv")
    leveringen, onleesbaar = inbox.scan(data_root / "inbox")
    assert leveringen == []
    assert [(e.feed, e.bestand, e.reden) for e in onleesbaar] == [
        ("uwv", "uwv_lks_20261120.csv", "verwijst naar een plek buiten de inbox")
    ]
