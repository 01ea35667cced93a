"""Any processing order ends as one clean run in date order (issue "Operations", point 1).

Two delivery days D1 < D2 share a routed kenmerk (UWV-001, Amsterdam): in date order it is
`gemeld` on D1 and `dubbel` on D2. Amsterdam has a second signal on D2 (UWV-102), so its D2
report exists in every order, but holds UWV-001 only when D2 was computed without D1. Each
scenario is compared with the clean run: the `signalen` rows and the report files' bytes
must be equal, and the outbox must hold exactly the mails listed (hand-written).
"""

import shutil
import subprocess
import sys

import duckdb
import pytest

from lks_pipeline_tests.conftest import cli_env, lks_pipeline, tree, write
from lks_pipeline_tests.test_reliability import inbox_with_addresses
from lks_pipeline_tests.test_signalen import UWV_D2

pytestmark = pytest.mark.slow

D1, D2 = "uwv_lks_20261120.csv", "uwv_lks_20261121.csv"
UWV_102 = (
    "UWV-102;ZIEK_UIT_DIENST;333333305;1976-07-08;Pietersen;;C.;Werkplaats Noord;"
    "111111111L01;2026-10-01;2026-11-18;;;\n"
)
D2_AMSTERDAM = "GM0363_Re-integratie_signaalrapport_20261121"
# Run a job for one day in this instance, as a data engineer does in the UI (or the daemon).
BY_HAND = """
import sys
import dagster as dg
from lks_pipeline.automation import recovery
from lks_pipeline.automation.instance import ensure_dagster_home
from lks_pipeline.definitions import defs
ensure_dagster_home()
instance = dg.DagsterInstance.get()
recovery.recover(instance)
result = defs.get_job_def(sys.argv[1]).execute_in_process(
    partition_key=sys.argv[2], instance=instance, raise_on_error=False)
sys.exit(0 if result.success else 1)
"""


def inbox(root):
    data = inbox_with_addresses(root / "data")
    write(data / "inbox" / "uwv" / D2, UWV_D2 + UWV_102)
    return data, cli_env(data, root / "home")


def process(env):
    result = lks_pipeline("process", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stderr


def by_hand(env, job, day):
    result = subprocess.run(
        [sys.executable, "-c", BY_HAND, job, day], env=env, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def state(data):
    with duckdb.connect(str(data / "warehouse" / "lks_analyse.duckdb"), read_only=True) as conn:
        signalen = conn.execute(
            "SELECT * FROM signalen ORDER BY leverdatum, regel, gemeentecode NULLS FIRST"
        ).fetchall()
    return signalen, tree(data / "reports")


def mails(data) -> list[str]:
    return sorted(p.name.rsplit(".", 2)[0] for p in (data / "outbox").glob("*.eml"))


def mail(data, report: str) -> list[str]:
    return [p.read_text() for p in sorted((data / "outbox").glob(f"{report}.*.eml"))]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Both days in one `process`, in date order: what every other order must end in."""
    data, env = inbox(tmp_path_factory.mktemp("schoon"))
    process(env)
    signalen, reports = state(data)
    outcomes = {(r[2], r[6]): r[7] for r in signalen}
    assert outcomes[("UWV-001", "GM0363")] == "dubbel"  # on D2; gemeld on D1
    assert [r[7] for r in signalen if r[2] == "UWV-102"] == ["gemeld"]
    assert f"GM0363/{D2_AMSTERDAM}.csv" in reports
    return signalen, reports, mails(data), data.parent


def test_a_late_uwv_file_for_an_earlier_day(clean, tmp_path):
    data, env = inbox(tmp_path)
    (data / "inbox" / "uwv" / D1).rename(tmp_path / D1)
    process(env)
    d2_first = (data / "reports" / "GM0363" / f"{D2_AMSTERDAM}.csv").read_bytes()
    assert d2_first.count(b"\r\n") == 3  # header, UWV-001 (not yet dubbel), UWV-102
    (tmp_path / D1).rename(data / "inbox" / "uwv" / D1)
    output = process(env)
    assert "Signal path: 1 later day(s) again" in output
    assert state(data) == clean[:2]
    # Every mail of the clean run once, and Amsterdam's D2 report twice: first with UWV-001,
    # then the corrected version, which says it replaces the earlier one.
    assert mails(data) == sorted([*clean[2], D2_AMSTERDAM])
    first, second = sorted(mail(data, D2_AMSTERDAM), key=lambda m: "vervangt" in m)
    assert "vervangt een eerdere versie" not in first
    assert "Dit bestand vervangt een eerdere versie met dezelfde naam." in second


def test_an_earlier_day_run_again_by_hand(clean, tmp_path):
    shutil.copytree(clean[3], tmp_path, dirs_exist_ok=True)  # both days processed in order
    data = tmp_path / "data"
    env = cli_env(data, tmp_path / "home")
    by_hand(env, "signalen_job", "2026-11-20")
    process(env)
    assert state(data) == clean[:2]
    assert mails(data) == clean[2]  # unchanged bytes: no second mail


def test_an_earlier_days_killed_run_retried_after_the_later_day(clean, tmp_path):
    data, env = inbox(tmp_path)
    (data / "inbox" / "uwv" / D2).rename(tmp_path / D2)
    killed = lks_pipeline("process", env={**env, "LKS_CRASHPUNT": "signalen:voor_commit"})
    assert killed.returncode != 0
    (tmp_path / D2).rename(data / "inbox" / "uwv" / D2)
    by_hand(env, "dag_job", "2026-11-21")  # the UWV sensor's run for D2, before D1's retry
    output = process(env)
    assert "Signal path: 1 later day(s) again" in output
    assert state(data) == clean[:2]
    assert mails(data) == sorted([*clean[2], D2_AMSTERDAM])
