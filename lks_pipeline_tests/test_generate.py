"""`lks-pipeline generate`: deterministic, and every spec edge case present at demo scale."""

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from lks_pipeline.synthetic.generator import SCALES, generate
from lks_pipeline_tests.conftest import NS_V0100, REPO

TOT = dt.date(2026, 11, 20)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "inbox"
    generate(folder, SCALES["demo"], 1, TOT)
    return folder


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, demo):
    generate(tmp_path / "a", SCALES["demo"], 1, TOT)
    generate(tmp_path / "b", SCALES["demo"], 2, TOT)
    assert digest(tmp_path / "a") == digest(demo)
    assert digest(tmp_path / "b") != digest(demo)


def test_committed_demo_inbox_is_what_the_documented_command_makes(demo):
    """README: `uv run lks-pipeline generate --seed 1` wrote data/inbox."""
    assert digest(REPO / "data" / "inbox") == digest(demo)


def test_deliberate_bad_rows_are_counted(tmp_path):
    assert generate(tmp_path, SCALES["demo"], 1, TOT).quarantaine == {
        "uwv": 4,
        "verwijsindex": 2,
        "dkd_reintegratie": 3,
    }


def _uwv_rows(demo: Path) -> list[dict]:
    import csv

    rows = []
    for path in sorted((demo / "uwv").iterdir()):
        with path.open(encoding="utf-8", newline="") as f:
            rows += [dict(r, bestand=path.name) for r in csv.DictReader(f, delimiter=";")]
    return rows


def test_every_edge_case_is_present(demo):
    rows = _uwv_rows(demo)
    vi = {p.name: p.read_text() for p in (demo / "verwijsindex").iterdir()}
    dkd = {p.name: p.read_text() for p in (demo / "dkd").iterdir()}
    all_vi = "".join(vi.values())
    all_dkd = "".join(v for k, v in dkd.items() if k.endswith(".xml"))
    instellingen = "".join(v for k, v in dkd.items() if k.endswith(".csv"))

    assert any(r["bsn"] == "010000008" for r in rows)
    assert "\n010000008;" in all_vi
    vi_sets = [set(re.findall(r"^(\d{9});", text, re.M)) for text in vi.values()]
    assert any(
        a & b for i, a in enumerate(vi_sets) for b in vi_sets[i + 1 :]
    )  # BSN in two gemeenten
    v0100 = [text for text in dkd.values() if NS_V0100 in text]
    assert v0100
    assert all("PercentageLoonwaarde" not in text for text in v0100)
    assert "GSDDossierReintegratie-v0100" in instellingen
    assert ";webservice;" in instellingen
    assert "<Einddatum>2019-12-31</Einddatum>" in all_dkd  # LKS ended outside the two-year window
    assert "<Code>30</Code>" in all_dkd
    assert "<Code>01</Code>" in all_dkd
    ezw = [r for r in rows if r["berichttype"] == "EINDE_ZW"]
    assert any(r["begindatum_zw_uitkering"] < "2022-01-01" for r in ezw)
    assert any(r["begindatum_zw_uitkering"] >= "2022-01-01" for r in ezw)
    assert any(r["einddatum_zw_uitkering"] == "" for r in ezw)
    kenmerken = {}
    for r in rows:
        kenmerken.setdefault(r["uwv_kenmerk"], set()).add(r["bestand"])
    assert any(len(days) == 2 for days in kenmerken.values())  # the same uwv_kenmerk on two days
    known = set().union(*vi_sets) | set(re.findall(r"<BSN>(\d{9})</BSN>", all_dkd))
    assert any(
        r["bsn"] not in known and r["uwv_kenmerk"] for r in rows
    )  # an event no gemeente knows
    names = [r["achternaam"] for r in rows] + [r["naam_administratieve_eenheid"] for r in rows]
    for start in "=+-@":
        assert any(n.startswith(start) for n in names), start
    assert any(re.search(r"[ëöüéç]", n) for n in names)
    assert any('"' in n for n in names)
    assert any(";" in n for n in names)


def test_small_scale_streams_quickly(tmp_path):
    result = generate(tmp_path, SCALES["small"], 3, TOT)
    assert (
        len(list((tmp_path / "verwijsindex").iterdir())) == 41
    )  # 40 gemeenten, one with 2 snapshots
    assert sum(1 for _ in (tmp_path / "uwv").iterdir()) == 7
    lines = sum(p.read_text().count("\n") - 1 for p in (tmp_path / "verwijsindex").iterdir())
    assert lines > 18_000
    assert result.quarantaine["uwv"] == 4


def test_generated_bsns_are_distinct_valid_and_sometimes_start_with_zero():
    import numpy as np
    from stdnum.nl import bsn

    from lks_pipeline.synthetic.generator import bsns

    values = [f"{b:09d}" for b in bsns(np.random.default_rng(5), 20_000)]
    assert len(set(values)) == 20_000
    assert all(bsn.is_valid(v) for v in values)
    assert 0.08 < sum(v.startswith("0") for v in values) / 20_000 < 0.12
