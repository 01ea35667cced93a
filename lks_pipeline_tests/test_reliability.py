"""Reliability and security (issue 8): another process on the live warehouse, file modes."""

import csv
import io
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lks_pipeline.automation.instance import instance_config
from lks_pipeline.core.files import package_file
from lks_pipeline_tests.conftest import cli_env, lks_pipeline, tree, write
from lks_pipeline_tests.test_notificaties import INSTELLINGEN, SmtpServer
from lks_pipeline_tests.test_signalen import build_inbox

# Crash recovery, concurrent writers and whole-pipeline scans: the full suite only.
pytestmark = pytest.mark.slow

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
    if instellingen:  # with addresses, so that the outbox gets mail
        inbox_with_addresses(data)
    else:
        build_inbox(data)
    env = cli_env(data, tmp_path / "home")
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
    # It says so and waits for the file; it neither finishes nor fails while the file is held.
    seen = []
    try:
        for line in run.stdout:
            seen.append(line)
            if "is in gebruik door een ander proces" in line:
                break
        time.sleep(3)
        assert run.poll() is None, "".join(seen)
    finally:
        holder.communicate("klaar\n", timeout=10)
    rest, _ = run.communicate(timeout=180)
    out = "".join(seen) + rest
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
    assert "FAILED in uwv_events" in held.stderr
    assert "Na 1 s wachten gestopt; de volgende run probeert het opnieuw." in out
    assert not (
        data / "reports" / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    ).exists()

    after = lks_pipeline("process", env=env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "[1/1] signalen 2026-11-21" in after.stderr
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
    # The analysts' copy is for the analysts' group (rules 6.4), never for everyone.
    assert mode(warehouse / "lks_analyse.duckdb") == 0o640
    assert mode(data / "reports") == 0o700
    for path in (data / "reports").rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(data / "outbox") == 0o700
    assert len(list((data / "outbox").iterdir())) == 5
    for path in (data / "outbox").iterdir():
        assert mode(path) == 0o600, path
    assert mode(warehouse / "lks.duckdb.schrijver") == 0o600
    assert sorted(p.name for p in warehouse.iterdir()) == [
        "lks.duckdb",
        "lks.duckdb.schrijver",
        "lks_analyse.duckdb",
    ]


def inbox_with_addresses(data):
    build_inbox(data)
    write(data / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    return data


def delivered(server):
    """Every accepted message as (recipient, subject, Message-ID), as often as it was accepted."""
    return Counter(
        (b["aan"][0], b["msg"]["Subject"], b["msg"]["Message-ID"]) for b in server.postvak.berichten
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Reports and mail of one `process` that nothing interrupts: what every crash must end in."""
    root = tmp_path_factory.mktemp("ongestoord")
    server = SmtpServer()
    with server:
        data = inbox_with_addresses(root / "data")
        run = lks_pipeline("process", env=cli_env(data, root / "home", **server.env()))
    assert run.returncode == 0, run.stdout + run.stderr
    mails = delivered(server)
    assert sum(mails.values()) == len(mails) == 6  # 7 reports; GM0014 has no address
    return tree(data / "reports"), mails


# In the order `process` reaches them, so that each run after a crash reaches the next point.
CRASHPUNTEN = [
    "referentie:voor_commit",
    "referentie:na_commit",
    "ingest:voor_commit",
    "ingest:na_commit",
    "dkd_aanleverfouten:voor_commit",
    "signalen:voor_commit",
    "signalen:na_commit",
    "rapport:voor_rename",
    "rapport:na_rename",
    "signaalrapporten:voor_commit",
    "poortwachter_termijnen:voor_commit",
    "notificaties:voor_commit",
    "notificatie:na_verzending",
    "analyse:voor_replace",
]


def test_killed_at_every_crash_point_in_turn_it_ends_as_if_never_interrupted(
    uninterrupted, tmp_path
):
    """SIGKILL at each point, each run after a crash crashing at the next: then one more run.

    No manual step in between: every next `process` marks the killed run failed and frees its
    writer slot itself (otherwise it would wait on the slot until the timeout).
    """
    reports, mails = uninterrupted
    data = inbox_with_addresses(tmp_path / "data")
    server = SmtpServer()
    with server:
        env = cli_env(data, tmp_path / "home", **server.env())
        for i, punt in enumerate(CRASHPUNTEN):
            crashed = lks_pipeline("process", env={**env, "LKS_CRASHPUNT": punt})
            assert crashed.returncode == -signal.SIGKILL, (punt, crashed.stdout, crashed.stderr)
            if i:  # the run the previous crash left behind was found and failed
                assert "Recovered: run " in crashed.stderr, (punt, crashed.stderr)
        final = lks_pipeline("process", env=env)
        idle = lks_pipeline("process", env=env)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "Recovered: run " in final.stderr
    assert idle.returncode == 0, idle.stdout + idle.stderr
    assert "Done: 0 runs succeeded, 0 failed." in idle.stdout

    assert tree(data / "reports") == reports
    # Each mail exactly once, but the one whose process died between the server's acceptance and
    # the ledger: that one once more, with the same Message-ID (documented at-most-once-more).
    again = delivered(server) - mails
    assert sum(again.values()) == 1, again
    assert set(delivered(server)) == set(mails)
    # Nothing lingers: no temp files, no runs left running, no slot held.
    leftovers = [p for p in data.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    assert sorted(p.name for p in (data / "warehouse").iterdir()) == [
        "lks.duckdb",
        "lks.duckdb.schrijver",  # the writers' lock file: empty, kept, locked by no one now
        "lks_analyse.duckdb",
    ]
    instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
    statuses = Counter(r.status for r in instance.get_runs())
    assert statuses[dg.DagsterRunStatus.FAILURE] == len(CRASHPUNTEN)
    assert set(statuses) == {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}
    assert instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots == []


def fake_run(instance, tags, status=dg.DagsterRunStatus.STARTED):
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.utils import make_new_run_id

    return instance.add_run(
        DagsterRun(job_name="signalen_job", run_id=make_new_run_id(), status=status, tags=tags)
    )


def test_the_sensor_fails_only_runs_whose_process_is_gone_and_frees_their_slot(tmp_path):
    from lks_pipeline.automation.sensors import herstel_sensor
    from lks_pipeline.definitions import defs

    data = inbox_with_addresses(tmp_path / "data")
    env = cli_env(data, tmp_path / "home")
    crashed = lks_pipeline("process", env={**env, "LKS_CRASHPUNT": "signalen:voor_commit"})
    assert crashed.returncode == -signal.SIGKILL
    instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
    (dead,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    slots = instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots
    assert [s.run_id for s in slots] == [dead.run_id]  # the stuck state this is about

    host = socket.gethostname()
    live = fake_run(instance, {"lks/host": host, "lks/pid": str(os.getpid())})
    elsewhere = fake_run(instance, {"lks/host": "een-andere-host", "lks/pid": "999999"})
    reused = fake_run(instance, {"lks/host": host, "lks/pid": "0"})
    time.sleep(3.5)  # a process that started after the run did cannot be the run's own
    newer = subprocess.Popen(["sleep", "60"])
    try:
        instance.add_run_tags(reused.run_id, {"lks/pid": str(newer.pid)})
        context = dg.build_sensor_context(
            instance=instance, repository_def=defs.get_repository_def()
        )
        request = herstel_sensor(context)
        second = herstel_sensor(context)
    finally:
        newer.kill()
        newer.wait()

    def status(run):
        return instance.get_run_by_id(run.run_id).status

    assert isinstance(request, dg.RunRequest)
    assert request.job_name == "analyse_job"
    assert status(dead) == dg.DagsterRunStatus.FAILURE
    assert status(reused) == dg.DagsterRunStatus.FAILURE
    assert status(live) == dg.DagsterRunStatus.STARTED
    assert status(elsewhere) == dg.DagsterRunStatus.STARTED
    assert second.skip_message == "Geen runs van een afgebroken proces"
    assert instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots == []
    failure = instance.get_records_for_run(
        dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records[0]
    assert f"(pid {dead.tags['lks/pid']} op {host}) bestaat niet meer" in (
        failure.event_log_entry.dagster_event.message
    )


def test_a_killed_run_worker_not_yet_reaped_counts_as_gone():
    """A code server collects a killed run worker's exit status only at its next clean-up; until
    then the worker is a zombie that still has a /proc entry."""
    from lks_pipeline.automation.recovery import process_alive

    zombie = subprocess.Popen(["sleep", "60"])
    try:
        assert process_alive(zombie.pid, time.time())
        zombie.kill()
        deadline = time.monotonic() + 10
        stat = Path(f"/proc/{zombie.pid}/stat")
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not process_alive(zombie.pid, time.time())
    finally:
        zombie.kill()
        zombie.wait()


def test_a_queued_run_whose_process_started_long_after_its_creation_is_alive(tmp_path):
    """A daemon-launched run is created when a sensor queues it and gets its process only when
    the queue reaches it; that later process is the run's own, not a reused pid."""
    from dagster._core.events import EngineEventData

    from lks_pipeline.automation.recovery import recover

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        queued_long = fake_run(instance, {})
        queued_dead = fake_run(instance, {})
        time.sleep(2.5)  # the queue reaches them
        worker = subprocess.Popen(["sleep", "60"])
        gone = subprocess.Popen(["true"])
        gone.wait()
        try:
            for run, pid in ((queued_long, worker.pid), (queued_dead, gone.pid)):
                instance.report_engine_event(
                    "Started process for run", run, EngineEventData(metadata={"pid": str(pid)})
                )
            recovered = recover(instance)
        finally:
            worker.kill()
            worker.wait()

        assert [h.run_id for h in recovered] == [queued_dead.run_id]
        assert instance.get_run_by_id(queued_long.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(queued_dead.run_id).status == dg.DagsterRunStatus.FAILURE


def test_a_run_that_ends_while_herstel_looks_keeps_its_own_end(monkeypatch):
    """The list of running runs is read first; a run whose process exits after that, having
    recorded its own end, is not then reported failed as if it had died."""
    from lks_pipeline.automation.recovery import RUNNING, recover

    instance = dg.DagsterInstance.ephemeral()
    exited = subprocess.Popen(["true"])
    exited.wait()
    run = fake_run(instance, {"lks/host": socket.gethostname(), "lks/pid": str(exited.pid)})
    stale = instance.get_run_records(dg.RunsFilter(statuses=RUNNING))
    assert [r.dagster_run.run_id for r in stale] == [run.run_id]
    instance.report_run_canceled(run)  # its own end, recorded before its process exited
    monkeypatch.setattr(instance, "get_run_records", lambda *_, **__: stale)

    assert recover(instance) == []
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.CANCELED


def persoonsgegevens(inbox):
    """Every BSN and every surname (4 letters or more) in the inbox's files, read from the files."""
    bsns, namen = set(), set()
    for path in inbox.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        bsns.update(re.findall(r"(?<![\d])(\d{9})(?![\d])", text))
        if path.parent.name == "uwv":
            for row in csv.DictReader(io.StringIO(text), delimiter=";"):
                name = (row.get("achternaam") or "").lstrip("=+-@'")
                namen.update(w for w in re.findall(r"\w+", name) if len(w) >= 4)
    # A surname that is also a place in the packaged reference data ("Holland" in Noord-Holland)
    # appears in its metadata by right; it cannot be told apart, so it is not looked for.
    plaatsen = set(
        re.findall(r"\w+", package_file("lks_pipeline.referentie", "gemeenten.csv").read_text())
    )
    return bsns, namen - plaatsen


def test_no_bsn_or_name_outside_the_reports(demo_verwerkt):
    """The console, the whole Dagster instance (event log, run tags and metadata, compute logs),
    the quarantine and the delivery records, and the outbox hold neither a BSN nor a name."""
    data, home = demo_verwerkt.data, demo_verwerkt.home
    bsns, namen = persoonsgegevens(data / "inbox")
    # the scan has something to look for
    assert len(bsns) > 400
    assert len(namen) > 50

    bsn_patroon = re.compile(rb"(?<![\d])(" + "|".join(bsns).encode() + rb")(?![\d])")
    naam_patroon = re.compile(rb"\b(" + "|".join(map(re.escape, namen)).encode() + rb")\b")

    def leaks(name, content: bytes):
        return [
            (name, m.group().decode())
            for p in (bsn_patroon, naam_patroon)
            for m in p.finditer(content)
        ]

    gevonden = leaks("console", demo_verwerkt.console.encode())
    instance_files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in instance_files)
    assert any(p.parent.name == "compute_logs" for p in instance_files)
    for path in instance_files:
        gevonden += leaks(str(path.relative_to(home)), path.read_bytes())
    outbox = list((data / "outbox").iterdir())
    assert len(outbox) == 28
    for path in outbox:
        gevonden += leaks(path.name, path.read_bytes())
    with duckdb.connect(str(data / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        for tabel in (
            "quarantaine",
            "leveringen",
            "notificaties",
            "dkd_webservice_bevragingen",
            "dkd_aanleverfouten",
        ):
            rows = conn.execute(f"SELECT * FROM {tabel}").fetchall()  # noqa: S608
            gevonden += leaks(tabel, repr(rows).encode())
        assert conn.execute("SELECT count(*) FROM quarantaine").fetchone()[0] == 9
    assert gevonden == []


WRITER = """
import sys, time
from lks_pipeline.core.resources import Warehouse

with Warehouse(database=sys.argv[1], wacht_seconden=0).get_connection() as conn:
    print("open", flush=True)
    if sys.argv[3:] == ["houd vast"]:
        sys.stdin.readline()
    conn.execute("CREATE TABLE IF NOT EXISTS t (schrijver VARCHAR, nr INTEGER)")
    for nr in range(3):
        conn.execute("INSERT INTO t VALUES (?, ?)", [sys.argv[2], nr])
        time.sleep(0.5)
"""


def test_two_of_our_writers_wait_for_each_other_even_where_the_pool_lets_both_in(tmp_path):
    """A SQLite instance can give its one pool slot to two processes at once (seen in the
    test below under load); the writers' file lock still lets only one at a time open the
    file, and the other waits instead of failing on DuckDB's lock, even with no wait allowed."""
    database = tmp_path / "lks.duckdb"

    def writer(*args):
        return subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    first = writer("eerste", "houd vast")
    assert first.stdout.readline() == "open\n"
    second = writer("tweede")
    # The second says at once whom it waits for (the lock file names the holder), and how long.
    waiting = second.stdout.readline()
    assert waiting.startswith(
        "Een andere schrijver van deze pipeline gebruikt het warehouse: python -c "
    ), waiting
    assert f"(PID {first.pid}). Deze stap wacht tot die klaar is (zonder limiet" in waiting
    first.stdin.write("verder\n")
    first.stdin.flush()
    outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute("SELECT schrijver, nr FROM t ORDER BY rowid").fetchall()
    assert rows == [
        ("eerste", 0),
        ("eerste", 1),
        ("eerste", 2),
        ("tweede", 0),
        ("tweede", 1),
        ("tweede", 2),
    ]


def test_two_writers_at_once_are_serialized_by_the_pool_not_by_luck(uninterrupted, tmp_path):
    """Two `process` at the same moment on one warehouse and instance, as when a manual launch
    meets the schedule. With LKS_WAREHOUSE_WACHT=0 a step that met the other's file lock would
    fail at once: both succeed only because the pool lets one writing step run at a time."""
    reports, mails = uninterrupted
    data = inbox_with_addresses(tmp_path / "data")
    server = SmtpServer()
    with server:
        env = cli_env(data, tmp_path / "home", **server.env(), LKS_WAREHOUSE_WACHT="0")
        # The instance as the daemon made it, with the packaged settings (the writers' pool).
        (tmp_path / "home").mkdir(mode=0o700)
        shutil.copyfile(instance_config(), tmp_path / "home" / "dagster.yaml")
        instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
        both = [
            subprocess.Popen(
                [sys.executable, "-m", "lks_pipeline.cli", "process"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300)[0] for p in both]
    for process, output in zip(both, outputs, strict=True):
        assert process.returncode == 0, output
        assert "in gebruik door een ander proces" not in output
    assert tree(data / "reports") == reports
    assert delivered(server) == mails  # each mail once: the ledger steps ran one after the other
    # They did meet: steps of one waited for the pool while the other held the slot.
    blocked = [
        record
        for run in instance.get_runs()
        for record in instance.get_records_for_run(run.run_id).records
        if "blocked by limit for pool duckdb_writer" in (record.event_log_entry.message or "")
    ]
    assert blocked
