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

from lks_pipeline_tests.conftest import REPO, cli_env, demo_data_root, lks_pipeline, tree
from lks_pipeline_tests.test_signalen import build_inbox

# A real PostgreSQL server and the deployment's processes: the full suite only.
pytestmark = pytest.mark.slow

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

    def query(self, database: str, sql: str, params: tuple | None = None) -> list[tuple]:
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
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
        [
            *as_owner,
            *(bindir / "initdb", "-D", data, "-U", server.user, "--pwfile", root / "pw"),
            *("--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"),
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} "
        f"-c unix_socket_directories={root} -c max_connections=200 -c fsync=off"
        # A Dutch server's own zone, as Debian's initdb takes it from the host: the instance
        # must work in UTC all the same (deploy/*/dagster.yaml, params).
        " -c timezone=Europe/Amsterdam"
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


def production_home(path: Path, variant: str = "process") -> Path:
    """A DAGSTER_HOME holding deploy/<variant>/dagster.yaml exactly as shipped."""
    path.mkdir(mode=0o700)
    shutil.copyfile(DEPLOY / variant / "dagster.yaml", path / "dagster.yaml")
    return path


@pytest.fixture(scope="module")
def sqlite_reports(demo_verwerkt):
    """The demo's reports as `lks-pipeline process` writes them on the default SQLite instance."""
    reports = tree(demo_verwerkt.data / "reports")
    assert len(reports) == 32
    return reports, sorted(p.name for p in (demo_verwerkt.data / "outbox").iterdir())


def test_process_records_its_runs_in_postgres_and_writes_the_same_reports(
    postgres, sqlite_reports, tmp_path
):
    data = demo_data_root(tmp_path / "data")
    home = production_home(tmp_path / "home")
    env = cli_env(data, home, **postgres.new_database("dagster_process"))

    result = lks_pipeline("process", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Done: 12 runs succeeded, 0 failed." in result.stdout
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
    ) == [("SUCCESS", 12)]
    materialized = postgres.query(
        "dagster_process",
        "SELECT asset_key, partition, count(*) FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "AND asset_key IN ('[\"signaalrapporten\"]', '[\"notificaties\"]') "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert materialized == [
        ('["notificaties"]', None, 1),  # one run over the five days
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
    assert "Done: 0 runs succeeded, 0 failed." in again.stdout


def unit_command(unit: str, ports: dict[str, int]) -> list[str]:
    """The ExecStart of deploy/process/lks-pipeline-<unit>.service, on this venv and free ports."""
    text = (DEPLOY / "process" / f"lks-pipeline-{unit}.service").read_text()
    argv = shlex.split(re.search(r"^ExecStart=(.*)$", text, re.M)[1])
    assert argv[0].startswith("/srv/lks-pipeline/.venv/bin/")
    argv[0] = str(Path(sys.executable).parent / Path(argv[0]).name)
    return [str(ports.get(arg, arg)) for arg in argv]


def unit_environment(overrides: dict) -> dict:
    """deploy/process/lks-pipeline.env.example with the test's own values where it has them."""
    lines = (DEPLOY / "process" / "lks-pipeline.env.example").read_text().splitlines()
    example = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(overrides) <= set(example)
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **example, **overrides}


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename
    ... on RepositoryLocation { repositories { sensors { name sensorState { status } } } } } } } } }"""


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def test_code_server_webserver_and_daemon_as_separate_processes_run_the_pipeline(
    postgres, tmp_path
):
    """The three systemd units' own commands and environment, on PostgreSQL; the daemon's
    sensors find the inbox, queue the runs and launch each as a process of its own.

    The first run to commit an ingest is killed there (SIGKILL, holding the writers' slot). With
    no one stepping in, it must be failed (by the code server's own clean-up of its dead run
    workers or by `herstel_sensor`, whichever looks first), its slot freed, and the daemon's run
    retry must redo it."""
    srv = tmp_path / "srv"  # stands in for the units' WorkingDirectory, /srv/lks-pipeline
    (srv / "deploy" / "process").mkdir(parents=True)
    ports = {"4000": free_port(), "3000": free_port()}
    workspace = (DEPLOY / "process" / "workspace.yaml").read_text()
    assert "port: 4000\n" in workspace
    (srv / "deploy" / "process" / "workspace.yaml").write_text(
        workspace.replace("port: 4000\n", f"port: {ports['4000']}\n")
    )
    data = tmp_path / "data"
    build_inbox(data)
    env = unit_environment(
        {
            **postgres.new_database("dagster_units"),
            "DAGSTER_HOME": str(production_home(tmp_path / "home")),
            "LKS_DATA_DIR": str(data),
        }
    )
    crash = {
        "LKS_CRASHPUNT": "ingest:voor_commit",
        "LKS_CRASHPUNT_EENMALIG": str(tmp_path / "gecrasht"),
    }
    processes = []
    try:
        for unit in ("code", "webserver", "daemon"):
            processes.append(
                subprocess.Popen(
                    unit_command(unit, ports),
                    cwd=srv,
                    # The code server starts the run workers: they inherit this.
                    env=env | crash if unit == "code" else env,
                    stdout=(tmp_path / f"{unit}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its runs are in its process group
                )
            )

        def location_loaded():
            try:
                entries = graphql(ports["3000"], LOCATIONS)["workspaceOrError"]["locationEntries"]
            except OSError:
                return None
            loaded = [
                e
                for e in entries
                if e["locationOrLoadError"]
                and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            ]
            return loaded[0] if loaded else None

        location = wait_for(location_loaded, 90, "the webserver loads the code location")
        assert location["name"] == "lks_pipeline"
        (repository,) = location["locationOrLoadError"]["repositories"]
        assert {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]} == {
            "uwv_sensor": "RUNNING",
            "verwijsindex_sensor": "RUNNING",
            "dkd_reintegratie_sensor": "RUNNING",
            "dkd_instellingen_sensor": "RUNNING",
            "referentie_sensor": "RUNNING",
            "notificaties_sensor": "RUNNING",
            "herstel_sensor": "RUNNING",
            "storing_sensor": "RUNNING",
            "herberekening_sensor": "RUNNING",
            "op_tijd_sensor": "RUNNING",
        }

        def days_done():
            rows = postgres.query(
                "dagster_units",
                "SELECT run_id, pipeline_name, status FROM runs ORDER BY create_timestamp",
            )
            runs = [(job, status) for _, job, status in rows]
            finished = [r for r in runs if r[1] in ("SUCCESS", "FAILURE", "CANCELED")]
            days = [r for r in finished if r[0] == "dag_job"]
            return rows if len(days) == 2 and len(finished) == len(runs) else None

        rows = wait_for(days_done, 300, "the daemon runs both delivery days")
        # The daemon's storing_sensor tells the operators about the killed run, once.
        (killed,) = [run_id for run_id, _, status in rows if status != "SUCCESS"]
        alert = data / "outbox" / f"storing.{killed}.eml"
        wait_for(alert.exists, 90, "storing_sensor mails the operators about the killed run")
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    assert (tmp_path / "gecrasht").exists()
    assert [p.name for p in (data / "outbox").glob("storing.*.eml")] == [alert.name]
    assert "To: beheer@example.nl\n" in alert.read_text()
    events = " ".join(
        event
        for (event,) in postgres.query(
            "dagster_units", "SELECT event FROM event_logs WHERE run_id = %s", (killed,)
        )
    )
    assert "PIPELINE_FAILURE" in events
    door_herstel = "bestaat niet meer: afgebroken" in events
    assert door_herstel or "was terminated by signal 9 (SIGKILL)" in events, events[-3000:]
    (retry,) = postgres.query(
        "dagster_units",
        "SELECT r.status, t.value FROM runs AS r JOIN run_tags AS t ON t.run_id = r.run_id "
        "WHERE t.key = 'dagster/parent_run_id' AND t.value = %s",
        (killed,),
    )
    assert retry[0] == "SUCCESS"
    assert postgres.query(
        "dagster_units", "SELECT count(*) FROM concurrency_slots WHERE run_id IS NOT NULL"
    ) == [(0,)]
    # Each feed's partitions in one run over their range (the inbox is there before the daemon
    # starts), then each day once, launched by the daemon from the sensors; herstel_sensor, when
    # it was the one to find the dead run, refreshes the analysts' copy.
    per_job = {}
    for _, job, status in rows:
        if status == "SUCCESS":
            per_job[job] = per_job.get(job, 0) + 1
    assert per_job == {
        "referentie_job": 1,
        "verwijsindex_job": 1,
        "dkd_reintegratie_job": 1,
        "dag_job": 2,
        **({"analyse_job": 1} if door_herstel else {}),
    }
    heartbeats = {
        row[0]
        for row in postgres.query("dagster_units", "SELECT daemon_type FROM daemon_heartbeats")
    }
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= heartbeats
    reports = data / "reports"
    assert sorted(str(p.relative_to(reports)) for p in reports.rglob("*.csv")) == [
        "GM0014/GM0014_Re-integratie_signaalrapport_20261120.csv",
        "GM0363/GM0363_LKS_einde_zw_signaalrapport_20261120.csv",
        "GM0363/GM0363_Re-integratie_signaalrapport_20261120.csv",
        "GM0518/GM0518_LKS_einde_zw_signaalrapport_20261120.csv",
        "GM0518/GM0518_Re-integratie_signaalrapport_20261120.csv",
        "GM0518/GM0518_Re-integratie_signaalrapport_20261121.csv",
        "GM0599/GM0599_LKS_einde_zw_signaalrapport_20261120.csv",
    ]
    header = "\ufeffBSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;Datum eerste AO-dag\r\n"
    assert (
        reports / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261120.csv"
    ).read_bytes() == (header + "010000008;;10-11-2026;01-09-2026\r\n").encode()
    assert (
        reports / "GM0518" / "GM0518_Re-integratie_signaalrapport_20261121.csv"
    ).read_bytes() == (header + "010000008;20-11-2026;10-11-2026;01-09-2026\r\n").encode()


def load_yaml(*parts: str) -> dict:
    return yaml.safe_load((DEPLOY.joinpath(*parts)).read_text())


def env_file(*parts: str) -> dict[str, str]:
    lines = DEPLOY.joinpath(*parts).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_container_instance_is_the_process_instance_plus_a_docker_run_launcher():
    docker, process = load_yaml("docker", "dagster.yaml"), load_yaml("process", "dagster.yaml")
    launcher = docker.pop("run_launcher")
    assert docker == process
    assert process["concurrency"] == {
        "pools": {"default_limit": 1, "granularity": "op"},
        "runs": {"max_concurrent_runs": 1},
    }
    assert process["run_retries"] == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_asset_or_op_failure": False,
    }
    # No credential is written in the file; each comes from the environment.
    db = process["storage"]["postgres"]["postgres_db"]
    assert db["params"] == {"options": "-c timezone=UTC"}
    assert {k: v for k, v in db.items() if k not in ("scheme", "params")} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }
    assert launcher["class"] == "DockerRunLauncher"


def test_the_container_instance_loads_against_postgres(postgres, tmp_path, monkeypatch):
    for name, value in postgres.new_database("dagster_docker").items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.from_config(str(production_home(tmp_path / "home", "docker")))
    try:
        assert type(instance.run_launcher).__name__ == "DockerRunLauncher"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.get_runs_count() == 0
    finally:
        instance.dispose()


def test_compose_gives_every_run_container_what_it_needs():
    compose = load_yaml("docker", "compose.yaml")
    launcher = load_yaml("docker", "dagster.yaml")["run_launcher"]["config"]
    settings = env_file("docker", "lks-pipeline.env.example")
    services = compose["services"]
    # The daemon passes each of these on to the run, so each must be set in its environment.
    daemon_env = {**settings, **services["daemon"]["environment"]}
    assert set(launcher["env_vars"]) <= set(daemon_env)
    assert all(daemon_env[name] for name in launcher["env_vars"] if "SMTP_" not in name)
    # The same volumes and network by the fixed names that the launcher uses.
    for mount in launcher["container_kwargs"]["volumes"]:
        volume = mount.split(":")[0]
        assert compose["volumes"][volume] == {"name": volume}
        assert any(m == mount for s in services.values() for m in s.get("volumes", []))
    assert compose["networks"][launcher["network"]] == {"name": launcher["network"]}
    # The webserver and the daemon find the code location where the code service serves it.
    workspace = load_yaml("docker", "workspace.yaml")["load_from"][0]["grpc_server"]
    command = services["code"]["command"]
    assert workspace["host"] == "code"
    assert command[command.index("-p") + 1] == str(workspace["port"])
    assert command[command.index("-m") + 1] == "lks_pipeline.definitions"
    assert services["code"]["environment"]["DAGSTER_CURRENT_IMAGE"] == services["code"]["image"]
    # The image copies only what exists, and installs from the lock.
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        for source in line.split()[:-1]:
            assert (REPO / source).exists(), source
    assert "uv sync --locked --no-dev --extra docker --no-editable" in dockerfile
    # What the process variant's environment file must hold for its instance.
    process = env_file("process", "lks-pipeline.env.example")
    assert {"DAGSTER_HOME", *launcher["env_vars"]} <= set(process)


def test_the_portal_migrates_into_its_own_postgres_database_and_keeps_the_audit_log(
    postgres, tmp_path
):
    postgres.new_database("lks_portaal")
    url = f"postgres://{postgres.user}:{postgres.password}@127.0.0.1:{postgres.port}/lks_portaal"
    env = cli_env(tmp_path / "data", tmp_path / "home", LKS_PORTAAL_DATABASE_URL=url)
    made = subprocess.run(
        [sys.executable, "-m", "lks_pipeline.cli", "portaal", "gebruiker", "ib-anna", "--ib"],
        env=env, input="een lange zin als wachtwoord\n", capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("otpauth://totp/")
    assert postgres.query("lks_portaal", "SELECT username, is_staff FROM auth_user") == [
        ("ib-anna", True)
    ]
    # Append-only in PostgreSQL too: the trigger of migration 0002 refuses a change.
    conn = postgres.connect("lks_portaal")
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO portaal_auditregel (wanneer, gebruiker, gemeentecode, actie, object, "
            "resultaat) VALUES (now(), 'anna', '', 'inloggen', '', 'gelukt')"
        )
        conn.commit()
        for change in (
            "UPDATE portaal_auditregel SET resultaat = 'x'",
            "DELETE FROM portaal_auditregel",
        ):
            with pytest.raises(psycopg2.errors.RaiseException, match="alleen-toevoegen"):
                cur.execute(change)
            conn.rollback()
    conn.close()
    audit = lks_pipeline("portaal", "audit", env=env)
    assert audit.returncode == 0, audit.stderr
    assert [json.loads(r)["gebruiker"] for r in audit.stdout.splitlines()] == ["anna"]
    assert not (tmp_path / "data" / "portaal" / "portaal.sqlite3").exists()
