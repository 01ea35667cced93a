"""`lks-pipeline` as a user runs it: a subprocess on a fresh data root and DAGSTER_HOME."""

import json
import re
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from lks_pipeline.automation import jobs, plan
from lks_pipeline_tests.conftest import (
    INSTELLINGEN_HEADER,
    REPO,
    UWV_HEADER,
    cli_env,
    lks_pipeline,
    write,
)
from lks_pipeline_tests.test_notificaties import INSTELLINGEN, SmtpServer
from lks_pipeline_tests.test_signalen import build_inbox


def bsns_delivered(inbox):
    """Per gemeente, every BSN in any of its verwijsindex or DKD files, read from the files."""
    delivered = {}
    for path in (inbox / "verwijsindex").iterdir():
        gemeente = path.name.split("_")[1]
        delivered.setdefault(gemeente, set()).update(
            re.findall(r"^(\d{9});", path.read_text(), re.M)
        )
    for path in (inbox / "dkd").glob("dkd_reintegratie_*.xml"):
        gemeente = path.name.split("_")[2]
        delivered.setdefault(gemeente, set()).update(
            re.findall(r"<BSN>(\d{9})</BSN>", path.read_text())
        )
    return delivered


def readme_analyst_queries() -> list[str]:
    """The ```sql blocks of the analysts' page (docs/analysts.md)."""
    text = (REPO / "docs" / "analysts.md").read_text()
    return re.findall(r"```sql\n(.*?)```", text, re.S)


@pytest.mark.slow
def test_generate_then_process_demo_end_to_end(tmp_path):
    env = cli_env(tmp_path / "data", tmp_path / "dagster_home")
    generated = lks_pipeline("generate", env=env)
    assert generated.returncode == 0, generated.stderr
    assert "22 files" in generated.stdout

    first = lks_pipeline("process", "--json", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    summary = json.loads(first.stdout)
    assert "23 partitions, 23 with new files" in first.stderr
    assert "Signal path: 5 leverdagen, 5 to process in 1 run(s)" in first.stderr
    assert "[1/1] signalen 2026-11-16..2026-11-20 (5 days): 28 notificaties sent" in (first.stderr)
    assert (
        "  2026-11-20: 24 events, 12 gemeld, 3 niet routeerbaar; 5 rapporten (5 written); "
        "21 aanleverfouten at 8 gemeenten" in first.stderr
    )
    # No LKS_SMTP_HOST: every report with an address is announced by an .eml in outbox/. The
    # generator gives GM0153 DKD data but no instellingen row, so its reports have no address.
    # The demo's numbers, as the README states them.
    assert summary["duur_s"] > 0
    assert {k: v for k, v in summary.items() if k != "duur_s"} == {
        "runs_geslaagd": 12,
        "runs_mislukt": 0,
        "bestanden": 22,
        "bestanden_afgewezen": 0,
        "regels_in_quarantaine": 9,
        "events": 117,
        "gemeld": 55,
        "niet_routeerbaar": 10,
        "rapporten": 32,
        "notificaties_verzonden": 28,
        "notificaties_wachtend": 0,
        "aanleverfouten": 21,
        "leverdagen": ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"],
    }

    data = tmp_path / "data"
    database = data / "warehouse" / "lks.duckdb"
    with duckdb.connect(str(database), read_only=True) as conn:
        per_feed = conn.execute(
            "SELECT feed, count(*) FROM quarantaine GROUP BY feed ORDER BY feed"
        ).fetchall()
        assert per_feed == [("dkd_reintegratie", 3), ("uwv", 4), ("verwijsindex", 2)]
        # every line of every UWV file is an event with an outcome or a quarantined row
        accounted = conn.execute(
            "SELECT l.bestand, l.regels_geladen + l.regels_gequarantaineerd, "
            "(SELECT count(DISTINCT regel) FROM signalen s WHERE s.leverdatum = l.leverdatum) "
            "+ l.regels_gequarantaineerd FROM leveringen l WHERE feed = 'uwv' ORDER BY 1"
        ).fetchall()
        bsns = {
            b
            for (b,) in conn.execute(
                "SELECT bsn FROM uwv_events UNION SELECT bsn FROM verwijsindex"
            ).fetchall()
        }
        achternamen = {
            n for (n,) in conn.execute("SELECT DISTINCT achternaam FROM uwv_events").fetchall() if n
        }
        gemeld = conn.execute("SELECT count(*) FROM signalen WHERE uitkomst = 'gemeld'").fetchone()[
            0
        ]
        dubbel = conn.execute("SELECT count(*) FROM signalen WHERE uitkomst = 'dubbel'").fetchone()
        in_warehouse = conn.execute(WAREHOUSE_COUNTS).fetchone()
    # --json's numbers are the warehouse's.
    assert in_warehouse == (22, 0, 9, 117, 55, 10, 32, 28, 0, 21)
    for bestand, regels, met_uitkomst in accounted:
        text = (data / "inbox" / "uwv" / bestand).read_text()
        assert regels == met_uitkomst == text.count("\n") - 1, bestand
    assert dubbel == (1,)  # the generator's one uwv_kenmerk on two days

    # the privacy rule, checked against the inbox files themselves: every report row's BSN
    # was delivered by that gemeente
    delivered = bsns_delivered(data / "inbox")
    reports = sorted((data / "reports").rglob("*.csv"))
    rows = 0
    for path in reports:
        gemeente = path.parent.name
        text = path.read_bytes().decode("utf-8")
        assert text.startswith("\ufeffBSN;")
        lines = text[1:].split("\r\n")[1:-1]
        report_bsns = [line.split(";")[0] for line in lines]
        assert report_bsns == sorted(report_bsns), path.name
        assert set(report_bsns) <= delivered[gemeente], path.name
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        rows += len(lines)
    assert rows == gemeld
    assert oct(database.parent.stat().st_mode & 0o777) == "0o700"
    outbox = sorted((data / "outbox").iterdir())
    announced = sorted(p.name for p in reports if p.parent.name != "GM0153")
    assert [re.sub(r"\.[0-9a-f]{16}\.eml$", ".csv", p.name) for p in outbox] == announced
    assert len(outbox) == 28
    mails = "".join(p.read_text() for p in outbox)

    # The analysts' copy exists and every example query of the README runs on it.
    copy = data / "warehouse" / "lks_analyse.duckdb"
    assert oct(copy.stat().st_mode & 0o777) == "0o640"
    queries = readme_analyst_queries()
    assert len(queries) >= 5
    with duckdb.connect(str(copy), read_only=True) as conn:
        for sql in queries:
            assert conn.execute(sql).fetchall(), sql
        actueel = conn.execute(
            "SELECT gemeentecode, fouttype FROM dkd_aanleverfouten_actueel "
            "WHERE fouttype IN ('GEEN_AANLEVERING', 'INSTELLINGEN_ONTBREKEN', "
            "'WEBSERVICE_ONBEREIKBAAR') ORDER BY ALL"
        ).fetchall()
    # The generator's edge cases: a gemeente that never delivered DKD, one without
    # instellingen, one without e-mail, and the webservice gemeente nobody answers for.
    assert actueel == [
        ("GM0034", "INSTELLINGEN_ONTBREKEN"),
        ("GM0153", "INSTELLINGEN_ONTBREKEN"),
        ("GM0518", "WEBSERVICE_ONBEREIKBAAR"),
        ("GM0772", "GEEN_AANLEVERING"),
    ]

    state = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in [database, *reports, *outbox]}
    second = lks_pipeline("process", env=env)
    assert second.returncode == 0, second.stderr
    assert "Done: 0 runs succeeded, 0 failed. Files read: 0 " in second.stdout
    assert "Reports: " + str(data / "reports") in second.stdout
    assert "23 partitions, 0 with new files" in second.stderr
    assert "Signal path: 5 leverdagen, 0 to process" in second.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in state} == state
    assert len(list((data / "outbox").iterdir())) == 28

    output = first.stdout + first.stderr + second.stdout + second.stderr + mails
    assert not (set(re.findall(r"\d{9}", output)) & bsns), "a BSN reached the console"
    words = set(re.findall(r"[^\s;:,()]+", output))
    assert not (words & {n for n in achternamen if len(n) >= 4}), "a name reached the console"

    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"lks/command": "process"}))
    # Reference data, inbox_job, the verwijsindex in 4 runs and the DKD files in 3 (gaps of more
    # than 25 gemeenten split a range), uwv_events, one run over the 5 consecutive days, and 1
    # analysts' copy.
    assert len(runs) == 12
    assert "[3/10] verwijsindex GM0014..GM0153 (3 partitions): 75 rows, 1 in quarantaine" in (
        first.stderr
    )
    assert "[6/10] verwijsindex GM0772: 34 rows" in first.stderr
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)


def test_days_behind_run_as_consecutive_ranges_of_at_most_a_month():
    assert plan.consecutive_days([]) == []
    assert plan.consecutive_days(["2026-11-21", "2026-11-20", "2026-11-23"]) == [
        ["2026-11-20", "2026-11-21"],
        ["2026-11-23"],  # the 22nd had no UWV file: not filled in
    ]
    assert plan.consecutive_days(
        ["2024-02-28", "2024-02-29", "2024-03-01", "2025-02-28", "2025-03-01"]
    ) == [
        ["2024-02-28", "2024-02-29", "2024-03-01"],
        ["2025-02-28", "2025-03-01"],
    ]
    jaar = [f"2026-01-{d:02d}" for d in range(1, 32)] + ["2026-02-01", "2026-02-02"]
    assert [len(r) for r in plan.consecutive_days(jaar)] == [31, 2]
    assert [len(r) for r in plan.consecutive_days(jaar, max_days=10)] == [10, 10, 10, 3]


def test_a_feeds_partitions_run_as_ranges_split_at_wide_gaps():
    def task(partition):
        return plan.Task(jobs.verwijsindex_job, dg.AssetKey("verwijsindex"), partition, "-")

    # GM0014, GM0034 and GM0153 are places 0, 1 and 26 of the 342; GM0344 is 96, GM0363 106.
    tasks = [task(p) for p in ("GM0363", "GM0014", "GM0153", "GM0034", "GM0344")]
    assert [b.name for b in plan.bundle(tasks)] == [
        "verwijsindex GM0014..GM0153 (3 partitions)",
        "verwijsindex GM0344..GM0363 (2 partitions)",
    ]
    assert [b.name for b in plan.bundle(tasks, max_gap=400)] == [
        "verwijsindex GM0014..GM0363 (5 partitions)"
    ]
    assert len(plan.bundle(tasks, max_gap=0)) == 4  # only GM0014 and GM0034 are neighbours
    dagen = [
        plan.Task(jobs.uwv_events_job, dg.AssetKey("uwv_events"), d, "-")
        for d in ("2026-11-20", "2026-12-31")
    ]
    assert [b.partitions for b in plan.bundle(dagen)] == [["2026-11-20"], ["2026-12-31"]]
    onverdeeld = [plan.Task(jobs.inbox_job, dg.AssetKey("inbox_bestandsnamen"), None, "-")]
    assert [b.name for b in plan.bundle(onverdeeld + tasks[:1])] == [
        "inbox_bestandsnamen",
        "verwijsindex GM0363",
    ]


@pytest.mark.slow
def test_a_failed_day_exits_1_and_is_retried_by_the_next_process(tmp_path):
    data = tmp_path / "data"
    build_inbox(data)
    env = cli_env(data, tmp_path / "home")
    (data / "reports").write_text("a file where the reports folder should be")

    failed = lks_pipeline("process", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Signal path: 2 leverdagen, 2 to process in 1 run(s)" in failed.stderr
    assert (
        "[1/1] signalen 2026-11-20..2026-11-21 (2 days): FAILED in signaalrapporten"
        in failed.stderr
    )
    assert "Done: 9 runs succeeded, 1 failed." in failed.stdout  # 8 ingest runs, the copy

    (data / "reports").unlink()
    retried = lks_pipeline("process", env=env)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "0 with new files" in retried.stderr
    assert "Signal path: 2 leverdagen, 2 to process" in retried.stderr
    path = data / "reports" / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    assert (
        path.read_bytes()
        == (
            "\ufeffBSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;"
            "Datum eerste AO-dag\r\n010000008;20-11-2026;10-11-2026;01-09-2026\r\n"
        ).encode()
    )

    again = lks_pipeline("process", env=env)
    assert again.returncode == 0
    assert "Signal path: 2 leverdagen, 0 to process" in again.stderr


@pytest.mark.slow
def test_process_sends_mail_and_after_an_smtp_outage_sends_each_once(data_root, tmp_path):
    build_inbox(data_root)
    write(data_root / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    server = SmtpServer()
    env = cli_env(data_root, tmp_path / "home", **server.env(), LKS_SMTP_TIMEOUT="2")

    down = lks_pipeline("process", env=env)
    # The reports are written, their mail waits: exit 3, not a failed pipeline.
    assert down.returncode == 3, down.stdout + down.stderr
    assert "[1/1] signalen 2026-11-20..2026-11-21 (2 days): FAILED in notificaties" in down.stderr
    # The two days are processed and counted; only their mail waits.
    assert "Signalen: 18 events, 14 gemeld, 1 niet routeerbaar. Rapporten: 7 written" in down.stdout
    assert "Notificaties: 0 sent, 6 waiting." in down.stdout
    assert (data_root / "reports" / "GM0599").is_dir()  # the reports are there regardless

    with server:
        up = lks_pipeline("process", env=env)
        again = lks_pipeline("process", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "Signal path: 2 leverdagen, 0 to process" in up.stderr
    assert "notificaties: 6 sent" in up.stderr
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Done: 0 runs succeeded, 0 failed." in again.stdout
    assert sorted(b["aan"][0] for b in server.postvak.berichten) == [
        "lks@gm0363.example.nl",
        "lks@gm0363.example.nl",
        "lks@gm0599.example.nl",
        "signalen@gm0518.example.nl",
        "signalen@gm0518.example.nl",
        "signalen@gm0518.example.nl",
    ]
    assert {b["van"] for b in server.postvak.berichten} == {"signalen@ib.example.nl"}


def test_dagster_home_config_follows_the_package_but_keeps_an_operators_own(tmp_path, monkeypatch):
    from lks_pipeline.automation.instance import ensure_dagster_home, instance_config

    ours = instance_config().read_text()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    config = ensure_dagster_home() / "dagster.yaml"
    assert config.read_text() == ours
    config.write_text(ours.replace("max_concurrent_runs: 1\n", ""))  # an older copy of ours
    ensure_dagster_home()
    assert config.read_text() == ours
    config.write_text("storage:\n  postgres: {}\n")  # the operator's own
    ensure_dagster_home()
    assert config.read_text() == "storage:\n  postgres: {}\n"


READER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
def count():
    return conn.execute("SELECT count(*), count(DISTINCT leverdatum) FROM signalen").fetchone()
print(*count(), flush=True)
sys.stdin.readline()
print(*count(), flush=True)
conn.close()
conn = duckdb.connect(sys.argv[1], read_only=True)
print(*count(), flush=True)
"""


@pytest.mark.slow
def test_an_analyst_holding_the_copy_open_neither_breaks_a_run_nor_sees_half_of_it(tmp_path):
    data = tmp_path / "data"
    build_inbox(data)
    env = cli_env(data, tmp_path / "home")
    (uwv_d2 := data / "inbox" / "uwv" / "uwv_lks_20261121.csv").rename(tmp_path / uwv_d2.name)
    assert lks_pipeline("process", env=env).returncode == 0

    copy = data / "warehouse" / "lks_analyse.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    before = reader.stdout.readline().split()
    (tmp_path / uwv_d2.name).rename(uwv_d2)  # the next day arrives while the analyst reads
    run = lks_pipeline("process", env=env)
    out, _ = reader.communicate("verder\n", timeout=60)
    during, after = out.split("\n")[:2]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[1/1] signalen 2026-11-21" in run.stderr
    assert before[1] == "1"
    assert during.split() == before  # the old state, whole
    assert after.split()[1] == "2"  # reconnected: both days
    assert int(after.split()[0]) > int(before[0])


def test_process_in_process_counts_its_summary_in_the_warehouse(tmp_path, monkeypatch, capsys):
    """The fast tier's run of `process`: three files, one quarantined row, one day, one report."""
    from lks_pipeline.cli import main

    data = tmp_path / "data"
    write(
        data / "inbox" / "verwijsindex" / "verwijsindex_GM0363_20261101.csv",
        "bsn;cluster\n999999904;Uitkeringen\n123456789;Uitkeringen\n",  # the second fails
    )
    write(
        data / "inbox" / "dkd" / "dkd_instellingen_20261101.csv",
        f"{INSTELLINGEN_HEADER}\n"
        "GM0363;verzamelbestand;GSDDossierReintegratie-v0200;;maandelijks;lks@gm0363.example.nl\n",
    )
    write(
        data / "inbox" / "uwv" / "uwv_lks_20261120.csv",
        f"{UWV_HEADER}\n"
        "UWV-001;ZIEK_UIT_DIENST;999999904;1980-02-03;Dijk;van;P.;Groen B.V.;123456789L01;"
        "2026-10-01;2026-11-15;2026-11-30;;\n"
        "UWV-002;ZIEK_UIT_DIENST;333333305;1976-07-08;Pietersen;;C.;Groen B.V.;123456789L01;"
        "2026-10-01;2026-11-15;2026-11-30;;\n",
    )
    # Recorded in the quarantine by inbox_bestandsnamen, but not a file any feed read.
    write(data / "inbox" / "uwv" / "notities.txt", "geen levering\n")
    for name, value in cli_env(data, tmp_path / "home", DAGSTER_EVENT_BATCH_SIZE="1000").items():
        monkeypatch.setenv(name, value)
    for name in ("LKS_DUCKDB_PATH", "LKS_SMTP_HOST", "LKS_CRASHPUNT", "LKS_CRASHPUNT_EENMALIG"):
        monkeypatch.delenv(name, raising=False)

    assert main(["process", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # the only standard output: one JSON object
    err = captured.err

    # Reference data, inbox_job (names and instellingen), the verwijsindex, the UWV day, the
    # signal path of the day, and the analysts' copy.
    assert "[2/4] inbox_bestandsnamen, dkd_instellingen: 2 rows, 0 in quarantaine" in err
    assert "[3/4] verwijsindex GM0363: 1 rows, 1 in quarantaine, 0 file(s) afgewezen" in err
    assert "[1/1] signalen 2026-11-20: 1 notificaties sent" in err
    # GM0363 delivers by verzamelbestand but never sent one (GEEN_AANLEVERING), and its
    # verwijsindex has an invalid BSN (BSN_ONGELDIG).
    assert (
        "  2026-11-20: 2 events, 1 gemeld, 1 niet routeerbaar; 1 rapporten (1 written); "
        "2 aanleverfouten at 1 gemeenten" in err
    )
    assert isinstance(summary.pop("duur_s"), float)
    assert summary == {
        "runs_geslaagd": 6,
        "runs_mislukt": 0,
        "bestanden": 3,
        "bestanden_afgewezen": 0,
        "regels_in_quarantaine": 1,
        "events": 2,
        "gemeld": 1,
        "niet_routeerbaar": 1,
        "rapporten": 1,
        "notificaties_verzonden": 1,
        "notificaties_wachtend": 0,
        "aanleverfouten": 2,
        "leverdagen": ["2026-11-20"],
    }
    with duckdb.connect(str(data / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        in_warehouse = conn.execute(WAREHOUSE_COUNTS).fetchone()
    assert in_warehouse == (3, 0, 1, 2, 1, 1, 1, 1, 0, 2)
    assert main(["process"]) == 0
    assert "Done: 0 runs succeeded, 0 failed." in capsys.readouterr().out


# What `process --json` reports, counted in the warehouse by hand: files a feed read (the inbox
# entry no feed reads, notities.txt, is recorded without a sha256), rejected, quarantined rows,
# events, gemeld, niet routeerbaar, reports, mails sent and waiting, and the
# aanleverfouten of the newest day.
WAREHOUSE_COUNTS = """
SELECT
    (SELECT count(*) FROM leveringen WHERE sha256 IS NOT NULL),
    (SELECT count(*) FROM leveringen WHERE status = 'afgewezen' AND sha256 IS NOT NULL),
    (SELECT sum(regels_gequarantaineerd) FROM leveringen WHERE sha256 IS NOT NULL),
    (SELECT count(*) FROM uwv_events),
    (SELECT count(*) FROM signalen WHERE uitkomst = 'gemeld'),
    (SELECT count(*) FROM signalen WHERE uitkomst = 'niet_routeerbaar'),
    (SELECT count(*) FROM signaalrapporten),
    (SELECT count(*) FROM notificaties WHERE status = 'verzonden'),
    (SELECT count(*) FROM notificaties WHERE status = 'te_verzenden'),
    (SELECT count(*) FROM dkd_aanleverfouten WHERE dag = (SELECT max(dag) FROM dkd_aanleverfouten))
"""


@pytest.mark.slow
def test_dev_starts_the_ui_from_any_directory(tmp_path):
    """`lks-pipeline dev` from a folder without the repository: the UI loads the code location."""
    import os
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    elders = tmp_path / "elders"
    elders.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "LKS_DATA_DIR": str(elders)}
    assert "dagster dev" in lks_pipeline("dev", "--help", env=env).stdout
    dev = subprocess.Popen(
        [sys.executable, "-m", "lks_pipeline.cli", "dev", "--", "--port", str(port)],
        cwd=elders, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    try:
        for _ in range(240):
            assert dev.poll() is None, "lks-pipeline dev stopped"
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query})
                entries = answer.json()["data"]["workspaceOrError"]["locationEntries"]
                if [(e["name"], e["loadStatus"]) for e in entries] == [
                    ("lks_pipeline.definitions", "LOADED")
                ]:
                    break
            except (httpx.TransportError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("the UI did not load the code location")
    finally:
        os.killpg(dev.pid, signal.SIGTERM)
        dev.wait(timeout=60)
