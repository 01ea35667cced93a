import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs a few hundred examples per property; `--hypothesis-profile=lang` runs far more.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("lang", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]

UWV_HEADER = (
    "uwv_kenmerk;berichttype;bsn;geboortedatum;achternaam;voorvoegsel;voorletters;"
    "naam_administratieve_eenheid;loonheffingennummer;datum_eerste_ao_dag;"
    "datum_einde_arbeidsverhouding;datum_einde_uitkeringsverhouding;begindatum_zw_uitkering;"
    "einddatum_zw_uitkering"
)
INSTELLINGEN_HEADER = (
    "gemeentecode;aanlevermethode;berichtversie;url;leverfrequentie;notificatie_email"
)
NS_V0200 = "urn:lks:dkd:GSDDossierReintegratie-v0200"
NS_V0100 = "urn:lks:dkd:GSDDossierReintegratie-v0100"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def dkd_xml(gemeentecode: str, clients: str, ns: str = NS_V0200) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<GSDDossierReintegratie xmlns="{ns}">\n'
        f"<Stuurgegevens><Gemeentecode>{gemeentecode}</Gemeentecode>"
        "<Aanmaakdatum>2026-11-20</Aanmaakdatum></Stuurgegevens>\n"
        f"{clients}</GSDDossierReintegratie>\n"
    )


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    return tmp_path


def materializer(resources: dict, instance):
    """`materialize(assets, partition)` on one instance and resources, asserting success."""
    import dagster as dg

    def materialize(assets, partition=None):
        result = dg.materialize(
            assets, resources=resources, partition_key=partition, instance=instance
        )
        assert result.success
        return result

    return materialize


def ingest(materialize, gemeenten, dagen) -> None:
    """Load reference data, instellingen, each gemeente's feeds and each day's UWV file."""
    from lks_pipeline.ingest import assets as feeds
    from lks_pipeline.referentie import assets as referentie

    materialize([referentie.gemeenten, referentie.doelgroepregister_codes])
    materialize([feeds.dkd_instellingen])
    for gemeente in gemeenten:
        materialize([feeds.verwijsindex], gemeente)
        materialize([feeds.dkd_reintegratie], gemeente)
    for dag in dagen:
        materialize([feeds.uwv_events], dag)


def cli_env(data: Path, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a test's `lks-pipeline`: this one, on its own data root and instance.

    LKS_DUCKDB_PATH or LKS_CRASHPUNT left in the developer's shell would send the run elsewhere
    or kill it, so they are dropped.
    """
    env = {**os.environ, "LKS_DATA_DIR": str(data), "DAGSTER_HOME": str(home), **extra}
    env.pop("LKS_DUCKDB_PATH", None)
    env.pop("LKS_CRASHPUNT", None)
    env.pop("LKS_CRASHPUNT_EENMALIG", None)
    return env


def demo_data_root(path: Path) -> Path:
    """A data root holding a copy of the committed demo inbox."""
    shutil.copytree(REPO / "data" / "inbox", path / "inbox")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def lks_pipeline(*args, env):
    """`lks-pipeline` as a user runs it: a subprocess with its own environment."""
    return subprocess.run(
        [sys.executable, "-m", "lks_pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Verwerkt:
    data: Path
    home: Path
    console: str


@pytest.fixture(scope="session")
def demo_verwerkt(tmp_path_factory) -> Verwerkt:
    """The committed demo inbox after one `lks-pipeline process` on a fresh SQLite instance.

    Shared, read-only, by the tests that compare against it or scan what it left behind.
    """
    root = tmp_path_factory.mktemp("demo")
    data = demo_data_root(root / "data")
    env = cli_env(data, root / "home")
    env.pop("LKS_SMTP_HOST", None)
    result = lks_pipeline("process", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return Verwerkt(data, root / "home", result.stdout + result.stderr)


class Teller(BaseHTTPRequestHandler):
    """Counts every request; answers with an entity, should a parser ever fetch one."""

    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY x "gelekt">')

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on loopback that hostile XML points at; `Teller.hits` must stay 0."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Teller)
    Teller.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
