"""The benchmark runner's quick mode (`--snel`), so its code cannot rot between national runs.

Its ratios mean nothing at this size and are not asserted; what is asserted is that every
figure is measured, printed and written, and that both yardsticks did the same work as ours.
"""

import json
import subprocess
import sys

import pytest

from lks_pipeline_tests.conftest import REPO

# The benchmarks' quick mode runs the whole pipeline several times: the full suite only.
pytestmark = pytest.mark.slow

FIGUREN = (
    "verwijsindex-ingest",
    "signaalpad stressdag (",
    "signaalpad stressdag: pandas",
    "DKD-ingest dkd_reintegratie_",
    "DKD-ingest piek-RSS",
    "backfill uwv_events",
    "sensor-tick",
    "lks-pipeline process (demo)",
    "lks-pipeline process, eerste lading",
    "lks-pipeline process, dagelijkse toename",
    "lks-pipeline process, piek-RSS",
)


def test_quick_benchmarks_measure_every_figure_against_a_yardstick_doing_the_same_work(tmp_path):
    uit = tmp_path / "snel.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--snel", "--werk", tmp_path, "--uit", uit],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(uit.read_text())
    namen = [f["naam"] for f in result["figuren"]]
    assert len(namen) == len(FIGUREN), namen
    for begin, name in zip(FIGUREN, namen, strict=True):
        assert name.startswith(begin), (begin, name)
    for figuur in result["figuren"]:
        assert min(figuur["ons"], figuur["maatstaf"], figuur["ratio"]) > 0, figuur
        assert "NIET HETZELFDE WERK" not in figuur["reden"], figuur
        assert f"{figuur['naam']} " in run.stdout
        assert f"doel {figuur['doel']}" in run.stdout
    assert result["machine"]["kernen"] >= 1
    # Where Dagster's own cost bounds a figure, its floor is measured in the same run and shown.
    for i in (0, 1, 5):
        figuur = result["figuren"][i]
        assert figuur["extra"]["dagster_vloer_s"] > 0, figuur
        assert figuur["reden"].startswith("Dagster alleen (lege assets, "), figuur
        assert figuur["reden"] in run.stdout
    # The stress day reports signals in several files, or the comparison proves nothing.
    signaalpad = result["figuren"][1]["extra"]
    assert signaalpad["gemeld"] > 100, signaalpad
    assert signaalpad["rapporten"] >= 8, signaalpad
    # The whole job: the plain script wrote the same reports, byte for byte, both times.
    for figuur in result["figuren"][8:10]:
        assert figuur["reden"] == "rapporten byte voor byte gelijk", figuur
    assert "(16 rapporten)" in result["figuren"][8]["naam"]
