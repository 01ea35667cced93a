"""Reading files ahead on worker processes (ingest/parallel.py) changes nothing in the warehouse.

The demo inbox with the hostile files added goes through `process` twice: once with every file
read in the run's process, as a small inbox is, and once with the DKD files read ahead on the
pool, as a national inbox is. The feeds' tables, `leveringen` (but for when: the read and the mtime) and `quarantaine` must be the
same row for row: files rejected whole in a worker, rows quarantined, encodings, good files.
"""

import duckdb
import pytest

from lks_pipeline.cli import main
from lks_pipeline.ingest import parallel
from lks_pipeline_tests.conftest import cli_env, demo_data_root, write
from lks_pipeline_tests.test_hostile_inbox import hostile_files

# Two whole runs of `process`: the full suite only.
pytestmark = pytest.mark.slow

NEW_POOL = parallel.worker_pool  # the real factory, before any test wraps it
TABLES = (
    "verwijsindex",
    "dkd_reintegratie",
    "dkd_doelgroepen",
    "dkd_inzetten",
    "dkd_loonkostensubsidies",
    "uwv_events",
    "dkd_instellingen",
    "quarantaine",
)


def demo_and_hostile(root):
    """The demo inbox with the hostile inbox's files added (its gemeenten, newer dates)."""
    demo_data_root(root)
    secret = root.parent.parent / "geheim.txt"  # one path for both runs: the XXE files name it
    secret.write_text("GEHEIM")
    for name, content in hostile_files(root, secret, "http://127.0.0.1:9").items():
        write(root / "inbox" / name, content)
    return root


def warehouse(root, home, monkeypatch, *, read_ahead: bool) -> tuple[dict, int]:
    """The ingest tables after one `process`, and how many files the pool read."""
    submitted = []

    def counting_pool():
        pool = NEW_POOL()
        submit = pool.submit

        def counting_submit(*args):
            submitted.append(args[2].bestand)
            return submit(*args)

        pool.submit = counting_submit
        return pool

    monkeypatch.setattr(parallel, "worker_pool", counting_pool)

    monkeypatch.setattr(parallel, "MIN_BYTES", 0 if read_ahead else 2**62)
    for name, value in cli_env(root, home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LKS_SMTP_HOST", raising=False)
    assert main(["process", "-q"]) == 0
    with duckdb.connect(str(root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        tables = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()  # noqa: S608
            for table in TABLES
        }
        tables["leveringen"] = conn.execute(
            "SELECT * EXCLUDE (verwerkt_op, mtime_ns) FROM leveringen ORDER BY ALL"
        ).fetchall()
    return tables, len(submitted)


def test_reading_ahead_on_worker_processes_gives_the_same_tables(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    serial, none_ahead = warehouse(
        demo_and_hostile(a / "data"), a / "home", monkeypatch, read_ahead=False
    )
    ahead, read_ahead = warehouse(
        demo_and_hostile(b / "data"), b / "home", monkeypatch, read_ahead=True
    )
    assert none_ahead == 0
    # The DKD files went to the pool: 16 of the 17 (the demo's 6, the hostile 11); a run of one
    # file reads it itself. The CSV feeds never read ahead.
    assert read_ahead >= 15, read_ahead
    for table, rows in serial.items():
        assert ahead[table] == rows, table
    # The 13 feed files rejected whole (9 DKD, 4 verwijsindex) are among the quarantined.
    assert len(serial["quarantaine"]) >= 13 + 5
    assert len(serial["dkd_doelgroepen"]) > 0
    # The DKD tables came back through spool files in the warehouse folder, all removed.
    assert not list((b / "data" / "warehouse").glob(".ingest-*")), "spool files left"
