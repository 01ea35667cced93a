"""The production deployment (deploy/) against a real PostgreSQL server on loopback.

The server is the machine's own PostgreSQL (initdb into a temporary folder, scram-sha-256 login,
TCP on 127.0.0.1 only); `.ci/run` installs it from the package manager where it is absent, and
without it these tests are skipped with that reason. The instance is deploy/process/dagster.yaml
as shipped, with its credentials from the environment.
"""

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from lks_pipeline_tests.conftest import REPO
from lks_pipeline_tests.test_cli import lks_pipeline

DEPLOY = REPO / "deploy"


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    if found := shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return versions[-1].parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    port: int
    user: str
    password: str

    def connect(self, database: str = "postgres"):
        return psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database,
        )

    def new_database(self, name: str) -> dict:
        """A fresh database, and the DAGSTER_PG_* variables that point the instance at it."""
        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": name,
        }

    def query(self, database: str, sql: str) -> list[tuple]:
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def postgres():
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb); .ci/run installs them")
    # PostgreSQL refuses to run as root; the package's own user runs it then.
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="lks-pg-"))
    server = Postgres(port=free_port(), user="lks", password=secrets.token_urlsafe(16))
    (root / "pw").write_text(server.password)
    if as_owner:
        shutil.chown(root, "postgres")
        shutil.chown(root / "pw", "postgres")
    data = root / "data"
    subprocess.run(
        [*as_owner, bindir / "initdb", "-D", data, "-U", server.user, "--pwfile", root / "pw"]
        + ["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"],
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} "
        f"-c unix_socket_directories={root} -c max_connections=200 -c fsync=off"
    )
    pg_ctl = [*as_owner, bindir / "pg_ctl", "-D", data]
    subprocess.run(
        [*pg_ctl, "-l", root / "log", "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield server
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def demo_data_root(path: Path) -> Path:
    """A data root holding a copy of the committed demo inbox."""
    shutil.copytree(REPO / "data" / "inbox", path / "inbox")
    return path


def production_home(path: Path, variant: str = "process") -> Path:
    """A DAGSTER_HOME holding deploy/<variant>/dagster.yaml exactly as shipped."""
    path.mkdir(mode=0o700)
    shutil.copyfile(DEPLOY / variant / "dagster.yaml", path / "dagster.yaml")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def sqlite_reports(tmp_path_factory):
    """The demo's reports as `lks-pipeline process` writes them on the default SQLite instance."""
    root = tmp_path_factory.mktemp("sqlite")
    data = demo_data_root(root / "data")
    env = {**os.environ, "LKS_DATA_DIR": str(data), "DAGSTER_HOME": str(root / "home")}
    env.pop("LKS_DUCKDB_PATH", None)
    result = lks_pipeline("process", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    reports = tree(data / "reports")
    assert len(reports) == 32
    return reports, sorted(p.name for p in (data / "outbox").iterdir())


def test_process_records_its_runs_in_postgres_and_writes_the_same_reports(
    postgres, sqlite_reports, tmp_path
):
    data = demo_data_root(tmp_path / "data")
    home = production_home(tmp_path / "home")
    env = {
        **os.environ,
        **postgres.new_database("dagster_process"),
        "LKS_DATA_DIR": str(data),
        "DAGSTER_HOME": str(home),
    }
    env.pop("LKS_DUCKDB_PATH", None)

    result = lks_pipeline("process", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Klaar: 29 runs geslaagd, 0 mislukt." in result.stdout
    reports, outbox = sqlite_reports
    assert tree(data / "reports") == reports
    assert sorted(p.name for p in (data / "outbox").iterdir()) == outbox

    # What the instance recorded is in PostgreSQL, read with SQL of our own, and nowhere else.
    assert (home / "dagster.yaml").read_bytes() == (
        DEPLOY / "process" / "dagster.yaml"
    ).read_bytes()
    # Only the runs' stdout/stderr stay on disk (the compute logs); no SQLite storage at all.
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml", "storage"]
    assert {p.name for p in (home / "storage").glob("*/*")} == {"compute_logs"}
    assert postgres.query(
        "dagster_process", "SELECT status, count(*) FROM runs GROUP BY status"
    ) == [("SUCCESS", 29)]
    materialized = postgres.query(
        "dagster_process",
        "SELECT asset_key, partition, count(*) FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "AND asset_key IN ('[\"signaalrapporten\"]', '[\"notificaties\"]') "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert materialized == [
        ('["notificaties"]', None, 5),
        ('["signaalrapporten"]', "2026-11-16", 1),
        ('["signaalrapporten"]', "2026-11-17", 1),
        ('["signaalrapporten"]', "2026-11-18", 1),
        ('["signaalrapporten"]', "2026-11-19", 1),
        ('["signaalrapporten"]', "2026-11-20", 1),
    ]
    # The writers' pool was enforced through PostgreSQL: limit 1, and no slot left held.
    assert postgres.query(
        "dagster_process",
        "SELECT concurrency_key, count(*), count(run_id) FROM concurrency_slots GROUP BY 1",
    ) == [("duckdb_writer", 1, 0)]

    again = lks_pipeline("process", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Klaar: 0 runs geslaagd, 0 mislukt." in again.stdout
