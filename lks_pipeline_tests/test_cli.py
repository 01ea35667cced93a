"""`lks-pipeline` as a user runs it: a subprocess on a fresh data root and DAGSTER_HOME."""

import os
import re
import subprocess
import sys

import dagster as dg
import duckdb


def lks_pipeline(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "lks_pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generate_then_ingest_demo_end_to_end(tmp_path):
    env = {
        **os.environ,
        "LKS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    env.pop("LKS_DUCKDB_PATH", None)
    generated = lks_pipeline("generate", env=env)
    assert generated.returncode == 0, generated.stderr
    assert "22 bestanden" in generated.stdout

    first = lks_pipeline("ingest", env=env)
    assert first.returncode == 0, first.stderr
    assert "23 partities, 23 met nieuwe bestanden" in first.stdout
    assert (
        "Klaar: 23 runs geslaagd, 0 mislukt; bestanden gelezen: 22, bestanden afgewezen: 0, regels in quarantaine: 9"
        in first.stdout
    )

    database = tmp_path / "data" / "warehouse" / "lks.duckdb"
    with duckdb.connect(str(database), read_only=True) as conn:
        per_feed = conn.execute(
            "SELECT feed, count(*) FROM quarantaine GROUP BY feed ORDER BY feed"
        ).fetchall()
        assert per_feed == [("dkd_reintegratie", 3), ("uwv", 4), ("verwijsindex", 2)]
        assert conn.execute(
            "SELECT count(*) FROM leveringen WHERE status = 'afgewezen'"
        ).fetchone() == (0,)
        bsns = {
            b
            for (b,) in conn.execute(
                "SELECT bsn FROM uwv_events UNION SELECT bsn FROM verwijsindex"
            ).fetchall()
        }
    assert oct(database.parent.stat().st_mode & 0o777) == "0o700"

    second = lks_pipeline("ingest", env=env)
    assert second.returncode == 0, second.stderr
    assert "23 partities, 0 met nieuwe bestanden" in second.stdout

    output = first.stdout + first.stderr + second.stdout + second.stderr
    assert not (set(re.findall(r"\d{9}", output)) & bsns), "a BSN reached the console"

    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"lks/command": "ingest"}))
    assert len(runs) == 23
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
