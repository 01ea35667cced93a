"""Reliability and security (issue 8): another process on the live warehouse, file modes."""

import os
import stat
import subprocess
import sys

from lks_pipeline_tests.conftest import write
from lks_pipeline_tests.test_cli import lks_pipeline
from lks_pipeline_tests.test_notificaties import INSTELLINGEN
from lks_pipeline_tests.test_signalen import build_inbox

# An analyst who opened the live file instead of the copy, read-only as the README tells them.
HOLDER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
conn.close()
"""


def processed_first_day(tmp_path, instellingen=False):
    """The test_signalen inbox processed up to 2026-11-20; its second UWV file held back."""
    data = tmp_path / "data"
    build_inbox(data)
    if instellingen:  # with addresses, so that the outbox gets mail
        write(data / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    env = {**os.environ, "LKS_DATA_DIR": str(data), "DAGSTER_HOME": str(tmp_path / "home")}
    env.pop("LKS_DUCKDB_PATH", None)
    day2 = data / "inbox" / "uwv" / "uwv_lks_20261121.csv"
    day2.rename(tmp_path / day2.name)
    first = lks_pipeline("process", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / day2.name).rename(day2)
    return data, env


def hold(database):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "open\n"
    return holder


def test_someone_on_the_live_warehouse_makes_the_run_wait_and_says_why(tmp_path):
    data, env = processed_first_day(tmp_path)
    holder = hold(data / "warehouse" / "lks.duckdb")
    run = subprocess.Popen(
        [sys.executable, "-m", "lks_pipeline.cli", "process"],
        env={**env, "LKS_WAREHOUSE_WACHT": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        run.wait(timeout=8)  # it waits for the file; it does not finish or fail
        raise AssertionError("process finished while the warehouse was held")
    except subprocess.TimeoutExpired:
        pass
    finally:
        holder.communicate("klaar\n", timeout=10)
    out, _ = run.communicate(timeout=180)
    assert run.returncode == 0, out
    assert (
        f"Het warehouse {data / 'warehouse' / 'lks.duckdb'} is in gebruik door een ander proces"
        in out
    )
    assert f"(PID {holder.pid})" in out
    assert "Analisten openen lks_analyse.duckdb, niet het live bestand" in out
    assert "[1/1] signalen 2026-11-21" in out
    assert (
        data / "reports" / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    ).exists()


def test_a_lock_held_past_the_wait_fails_the_run_clearly_and_the_next_run_recovers(tmp_path):
    data, env = processed_first_day(tmp_path)
    holder = hold(data / "warehouse" / "lks.duckdb")
    try:
        held = lks_pipeline("process", env={**env, "LKS_WAREHOUSE_WACHT": "1"})
    finally:
        holder.communicate("klaar\n", timeout=10)
    out = held.stdout + held.stderr
    assert held.returncode == 1, out
    assert "MISLUKT in uwv_events" in held.stdout
    assert "Na 1 s wachten gestopt; de volgende run probeert het opnieuw." in out
    assert not (
        data / "reports" / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    ).exists()

    after = lks_pipeline("process", env=env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "[1/1] signalen 2026-11-21" in after.stdout
    assert (
        data / "reports" / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    ).exists()


def test_reports_and_the_warehouse_are_not_readable_by_others(tmp_path):
    data, _ = processed_first_day(tmp_path, instellingen=True)

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    warehouse = data / "warehouse"
    assert mode(warehouse) == 0o700
    assert mode(warehouse / "lks.duckdb") == 0o600
    # The analysts' copy is for the analysts' group (DESIGN 6.4), never for everyone.
    assert mode(warehouse / "lks_analyse.duckdb") == 0o640
    assert mode(data / "reports") == 0o700
    for path in (data / "reports").rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(data / "outbox") == 0o700
    assert len(list((data / "outbox").iterdir())) == 5
    for path in (data / "outbox").iterdir():
        assert mode(path) == 0o600, path
    assert sorted(p.name for p in warehouse.iterdir()) == ["lks.duckdb", "lks_analyse.duckdb"]
