"""National-scale benchmarks: each figure against its yardstick, measured side by side.

    python3 -m uv run --locked python -m benchmarks.run            # national (docs/benchmarks.md)
    python3 -m uv run --locked python -m benchmarks.run --snel     # small scale, < 2 minutes

Machines here are noisy, so every figure is a ratio of two things measured in the same run,
alternating round by round (the median of each side counts). One line per figure: the ratio,
the target, PASS or FAIL and why; the whole result goes to `benchmarks/results/*.json`. The
inbox is made by `lks-pipeline generate` and kept under `benchmarks/results/werk/` until the
generator or its options change. Exit 1 when a figure fails at national scale; `--snel` only
proves the code runs (its targets mean nothing at that size) and exits 0 when all figures ran.

The yardsticks compute the same outcome, and the runner checks that: the SQL script's and the
pandas version's `gemeld` signals (gemeente, kenmerk, zekerheid) must equal ours, or the figure
fails as "not the same work".
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from benchmarks import kaal
from benchmarks.triviaal import leeg
from lks_pipeline.cli.process import QUIET_RUN_CONFIG
from lks_pipeline.core.partitions import dag_partitions, gemeente_partitions, partition_range_tags
from lks_pipeline.synthetic.generator import SCALES, Scale, generate

HIER = Path(__file__).resolve().parent
REPO = HIER.parent
TOT = dt.date(2026, 11, 20)
SEED = 1


@dataclass(frozen=True)
class Opzet:
    """What a run measures: the inbox scale, rounds per pair, and the sizes of the side tests."""

    name: str
    schaal: Scale
    rondes: int
    sensor_bestanden: int
    backfill_dagen: int
    streng: bool  # whether a FAIL makes the exit status non-zero


OPZETTEN = {
    "national": Opzet("national", SCALES["national"], 3, 10_000, 365, streng=True),
    "snel": Opzet(
        "snel",
        Scale(
            gemeenten=8,
            verwijsindex_rijen=20_000,
            dkd_clienten=2_000,
            events_per_dag=30,
            dagen=8,
            stressdag_events=2_000,
        ),
        1,
        1_000,
        8,
        streng=False,
    ),
}


@dataclass
class Figuur:
    """One measured figure: ours against the yardstick, the ratio and the verdict.

    The field names are the keys of the result file (`benchmarks/results/*.json`), which later
    runs and the tests read: they keep their spelling.
    """

    naam: str
    doel: str
    ratio: float
    geslaagd: bool
    ons: float
    maatstaf: float
    eenheid: str
    reden: str = ""
    extra: dict = field(default_factory=dict)

    def regel(self) -> str:
        oordeel = "PASS" if self.geslaagd else "FAIL"
        body = (
            f"{self.naam:<44} {self.ratio:>8.2f}×  doel {self.doel:<12} {oordeel}  "
            f"(ons {self.ons:.3g} {self.eenheid}, maatstaf {self.maatstaf:.3g} {self.eenheid})"
        )
        return body + (f"\n{'':<46}{self.reden}" if self.reden else "")


def mediaan_paar(ons: Callable[[], float], maatstaf: Callable[[], float], rondes: int):
    """Alternate the two measurements `rondes` times; return both medians and all samples."""
    a, b = [], []
    for ronde in range(rondes):
        # Alternate who goes first, so neither side always has the warmer cache.
        paar = [(a, ons), (b, maatstaf)] if ronde % 2 == 0 else [(b, maatstaf), (a, ons)]
        for samples, meet in paar:
            samples.append(meet())
    return statistics.median(a), statistics.median(b), {"ons": a, "maatstaf": b}


def getimed(functie: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    functie()
    return time.perf_counter() - start


def vloer(werk: "Werk", assets: list, partitions: list[str]) -> float:
    """Median seconds of Dagster alone on one run of `assets` (no-ops) over `partitions`.

    The same instance and run shape as ours (one run over the range, metadata per partition):
    what no code of ours can go below, shown next to a figure it bounds.
    """
    # One partition the way ours runs one: a partition key, not a range of one.
    een, stretch = (partitions[0], None) if len(partitions) == 1 else (None, partitions)
    return statistics.median(
        getimed(lambda: werk.materialiseer(None, assets, een, stretch))
        for _ in range(werk.opzet.rondes)
    )


def vloer_tekst(seconden: float, maatstaf: float, what: str) -> str:
    """The floor as a line under its figure: below this ratio no code of ours can go."""
    return (
        f"Dagster alleen (lege assets, {what}, 1 run): {seconden:.2f} s = "
        f"{seconden / maatstaf:.1f}× de maatstaf"
    )


class Werk:
    """The working folder of one scale: the generated inbox and the warehouses measured on."""

    def __init__(self, opzet: Opzet, base: Path):
        self.opzet = opzet
        self.map = base / opzet.name
        self.root = self.map / "data"
        self.inbox = self.root / "inbox"
        self.instance: dg.DagsterInstance | None = None

    def generate(self) -> None:
        """Generate the inbox unless the same generator and options already made it."""
        bron = (REPO / "lks_pipeline" / "synthetic" / "generator.py").read_bytes()
        key = json.dumps(
            [asdict(self.opzet.schaal), SEED, TOT.isoformat(), hashlib.sha256(bron).hexdigest()]
        )
        merk = self.map / "gegenereerd.json"
        instance = self.map / "dagster"
        shutil.rmtree(instance, ignore_errors=True)  # a fresh event log for every run
        if merk.exists() and merk.read_text() == key and self.inbox.is_dir():
            print(f"Inbox {self.inbox}: hergebruikt")
        else:
            self._maak(merk, key)
        instance.mkdir(parents=True)
        self.instance = dg.DagsterInstance.local_temp(tempdir=str(instance))

    def _maak(self, merk: Path, key: str) -> None:
        shutil.rmtree(self.map, ignore_errors=True)
        self.map.mkdir(parents=True)
        start = time.perf_counter()
        result = generate(self.inbox, self.opzet.schaal, SEED, TOT)
        grootte = sum(p.stat().st_size for p in result.bestanden) / 1e6
        print(
            f"Inbox {self.inbox}: {len(result.bestanden)} bestanden, {grootte:.0f} MB, "
            f"gegenereerd in {time.perf_counter() - start:.0f} s"
        )
        merk.write_text(key)

    def database(self, name: str, *, leeg: bool = True) -> Path:
        pad = self.map / "warehouses" / f"{name}.duckdb"
        pad.parent.mkdir(parents=True, exist_ok=True)
        if leeg:
            for oud in pad.parent.glob(f"{name}.duckdb*"):
                oud.unlink()
        return pad

    def resources(self, database: Path, root: Path | None = None) -> dict:
        """Our resources on `database`, with `root` (default: this scale's) as the data root."""
        from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
        from lks_pipeline.core.resources import LksSettings, Warehouse
        from lks_pipeline.notificaties.resources import Mail
        from lks_pipeline.webservice.resources import DkdWebservice

        return {
            "lks": LksSettings(data_dir=str(root or self.root)),
            "duckdb": Warehouse(database=str(database)),
            "mail": Mail(),
            "webservice": DkdWebservice(timeout_seconds=1.0, pogingen=1),
            "drempels": AanleverfoutenThresholds(),
        }

    def materialiseer(
        self, database: Path | None, assets: list, partition: str | None = None, partitions=None
    ):
        """One run; `partitions`: a list of partitions, run as the one range they span.

        `database` None: no resources, for assets that need none (Dagster's floor).
        """
        result = dg.materialize(
            assets,
            resources=self.resources(database) if database else None,
            partition_key=partition,
            instance=self.instance,
            tags={
                "lks/benchmark": self.opzet.name,
                **(partition_range_tags(partitions) if partitions else {}),
            },
            run_config=QUIET_RUN_CONFIG,
        )
        if not result.success:
            raise RuntimeError(f"{[a.key for a in assets]} {partition or partitions}: run mislukte")
        return result

    def bestanden(self, map_: str, patroon: str) -> list[Path]:
        return sorted((self.inbox / map_).glob(patroon))

    def gemeenten(self, map_: str, patroon: str) -> list[str]:
        return sorted({p.name.split("_")[-2] for p in self.bestanden(map_, patroon)})

    def ingest_vi(self, database: Path) -> None:
        from lks_pipeline.ingest.assets import verwijsindex

        codes = self.gemeenten("verwijsindex", "verwijsindex_*.csv")
        self.materialiseer(database, [verwijsindex], partitions=codes)


def figuur_verwijsindex(werk: Werk) -> tuple[Figuur, Path]:
    """Every verwijsindex file into the warehouse, against DuckDB's read_csv of the same files."""
    bestanden = [str(p) for p in werk.bestanden("verwijsindex", "verwijsindex_*.csv")]
    columns = {"bsn": "VARCHAR", "cluster": "VARCHAR"}

    def maatstaf() -> float:
        with duckdb.connect() as conn:
            return getimed(
                lambda: conn.execute(
                    "CREATE TABLE vi AS SELECT * FROM read_csv(?, delim = ';', header = true, "
                    "columns = ?, auto_detect = false)",
                    [bestanden, columns],
                )
            )

    latest: list[Path] = []

    def ons() -> float:
        database = werk.database(f"verwijsindex-{len(latest)}")
        latest.append(database)
        return getimed(lambda: werk.ingest_vi(database))

    a, b, samples = mediaan_paar(ons, maatstaf, werk.opzet.rondes)
    with duckdb.connect(str(latest[-1]), read_only=True) as conn:
        (rijen,) = conn.execute("SELECT count(*) FROM verwijsindex").fetchone()
    codes = werk.gemeenten("verwijsindex", "verwijsindex_*.csv")
    dagster = vloer(werk, [leeg("leeg_verwijsindex", gemeente_partitions)], codes)
    ratio = a / b
    figuur = Figuur(
        f"verwijsindex-ingest ({len(bestanden)} bestanden, {rijen:,} rijen)",
        "≤ 1.5×",
        ratio,
        ratio <= 1.5,
        a,
        b,
        "s",
        reden=vloer_tekst(dagster, b, f"dezelfde {len(codes)} gemeenten"),
        extra={
            "samples": samples,
            "rijen": rijen,
            "bestanden": len(bestanden),
            "dagster_vloer_s": dagster,
        },
    )
    return figuur, latest[-1]


def laad_rest(werk: Werk, database: Path) -> None:
    """Reference data, instellingen, every DKD file and the stress day: the signal path's input."""
    from lks_pipeline.ingest import assets as feeds
    from lks_pipeline.referentie import assets as referentie

    start = time.perf_counter()
    werk.materialiseer(database, [referentie.gemeenten, referentie.doelgroepregister_codes])
    werk.materialiseer(database, [feeds.dkd_instellingen])
    codes = werk.gemeenten("dkd", "dkd_reintegratie_*.xml")
    werk.materialiseer(database, [feeds.dkd_reintegratie], partitions=codes)
    werk.materialiseer(database, [feeds.uwv_events], TOT.isoformat())
    print(f"Warehouse geladen voor het signaalpad in {time.perf_counter() - start:.0f} s")


def _kind(*argumenten: str) -> dict:
    uit = subprocess.run(
        [sys.executable, "-m", "benchmarks.kind", *argumenten],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if uit.returncode != 0:
        raise RuntimeError(f"benchmarks.kind {argumenten[0]} mislukte:\n{uit.stderr[-2000:]}")
    return json.loads(uit.stdout.strip().splitlines()[-1])


def figuur_dkd(werk: Werk) -> list[Figuur]:
    """The largest DKD file through our ingest, against a bare lxml iterparse count."""
    xml = max(werk.bestanden("dkd", "dkd_reintegratie_*.xml"), key=lambda p: p.stat().st_size)
    code = xml.name.split("_")[-2]
    mb = xml.stat().st_size / 1e6
    metingen: dict[str, list[dict]] = {"ons": [], "maatstaf": []}

    def ons() -> float:
        database = werk.database("dkd")
        meting = _kind("dkd", str(werk.root), str(database), code)
        metingen["ons"].append(meting)
        return meting["seconden"]

    def maatstaf() -> float:
        meting = _kind("iterparse", str(xml))
        metingen["maatstaf"].append(meting)
        return meting["seconden"]

    a, b, samples = mediaan_paar(ons, maatstaf, werk.opzet.rondes)
    doorvoer = b / a  # our throughput as a fraction of the floor's
    piek = max(m["piek_rss_mb"] for m in metingen["ons"])
    return [
        Figuur(
            f"DKD-ingest {xml.name} ({mb:.0f} MB) doorvoer",
            "≥ 0.70×",
            doorvoer,
            doorvoer >= 0.7,
            mb / a,
            mb / b,
            "MB/s",
            extra={"samples_s": samples, "metingen": metingen},
        ),
        Figuur(
            "DKD-ingest piek-RSS (MB, hele proces)",
            "≤ 500 MB",
            piek / 500,
            piek <= 500,
            piek,
            max(m["piek_rss_mb"] for m in metingen["maatstaf"]),
            "MB",
            reden="ratio = piek / 500 MB; maatstaf = piek van de kale iterparse",
        ),
    ]


def _gemeld_ons(conn, dag: dt.date) -> set:
    return set(
        conn.execute(
            "SELECT gemeentecode, uwv_kenmerk, zekerheid FROM signalen "
            "WHERE leverdatum = ? AND uitkomst = 'gemeld'",
            [dag],
        ).fetchall()
    )


def figuren_signaalpad(werk: Werk, database: Path) -> list[Figuur]:
    """The stress day's signalen and signaalrapporten, against the SQL script and pandas."""
    sql_figure, ours = _signal_path_against_sql(werk, database)
    pandas_figure = _signal_path_against_pandas(werk, database, ours)
    with duckdb.connect(str(database)) as conn:
        conn.execute("DROP TABLE IF EXISTS benchmark_signalen")
        conn.execute("DROP TABLE IF EXISTS benchmark_signalen_pandas")
    return [sql_figure, pandas_figure]


@dataclass(frozen=True)
class _Ours:
    """What our signal path did on the stress day, for the yardsticks to be compared with."""

    seconds: float
    gemeld: set
    reports: int


def _signal_path_against_sql(werk: Werk, database: Path) -> tuple[Figuur, _Ours]:
    """Our signalen and signaalrapporten against the plain SQL script, round by round."""
    rapporten = werk.root / "reports"
    sql_rapporten = werk.map / "rapporten-sql"
    a, b, samples = mediaan_paar(
        _our_round(werk, database, rapporten),
        _sql_round(database, sql_rapporten),
        werk.opzet.rondes,
    )
    dagster = vloer(
        werk,
        [
            leeg("leeg_signalen", dag_partitions),
            leeg("leeg_signaalrapporten", dag_partitions, deps=("leeg_signalen",)),
        ],
        [TOT.isoformat()],
    )
    gemeld, events, sql_gemeld = _compare_gemeld(database)
    ours = _Ours(a, gemeld, len(list(rapporten.glob("GM*/*.csv"))))
    bestanden_sql = len(list(sql_rapporten.glob("*/*/*.csv")))
    zelfde = gemeld == sql_gemeld and ours.reports == bestanden_sql
    ratio = a / b
    figure = Figuur(
        f"signaalpad stressdag ({events:,} events) vs SQL-script",
        "≤ 1.5×",
        ratio,
        ratio <= 1.5 and zelfde,
        a,
        b,
        "s",
        reden=vloer_tekst(dagster, b, "twee, zelfde dag")
        if zelfde
        else "NIET HETZELFDE WERK: het SQL-script meldt andere signalen",
        extra={
            "samples": samples,
            "dagster_vloer_s": dagster,
            "gemeld": len(gemeld),
            "rapporten": ours.reports,
            "rapporten_sql": bestanden_sql,
        },
    )
    return figure, ours


def _our_round(werk: Werk, database: Path, rapporten: Path) -> Callable[[], float]:
    """One round of ours: the stress day's signalen and signaalrapporten, every file written."""
    from lks_pipeline.rapporten.assets import signaalrapporten
    from lks_pipeline.signalen.assets import signalen

    def ons() -> float:
        shutil.rmtree(rapporten, ignore_errors=True)  # every round writes every file
        return getimed(
            lambda: werk.materialiseer(database, [signalen, signaalrapporten], TOT.isoformat())
        )

    return ons


def _sql_round(database: Path, sql_rapporten: Path) -> Callable[[], float]:
    """One round of the SQL script (`signaalpad.sql`) doing the same work."""
    script = (HIER / "signaalpad.sql").read_text()
    copy = (
        "COPY (SELECT * FROM {view}) TO '{map_}' (FORMAT csv, DELIMITER ';', HEADER, "
        "PARTITION_BY (gemeentecode), OVERWRITE)"
    )

    def sql() -> float:
        shutil.rmtree(sql_rapporten, ignore_errors=True)
        sql_rapporten.mkdir(parents=True)

        def draai():
            with duckdb.connect(str(database)) as conn:
                conn.execute("SET VARIABLE dag = ?", [TOT])
                conn.execute(script)
                for rapport, (_, view) in kaal.RAPPORTEN.items():
                    conn.execute(copy.format(view=view, map_=sql_rapporten / rapport))
                conn.execute("CHECKPOINT")

        return getimed(draai)

    return sql


def _compare_gemeld(database: Path) -> tuple[set, int, set]:
    """Our `gemeld` signals of the stress day, its events, and the SQL script's `gemeld`."""
    with duckdb.connect(str(database), read_only=True) as conn:
        gemeld = _gemeld_ons(conn, TOT)
        (events,) = conn.execute(
            "SELECT count(*) FROM uwv_events WHERE leverdatum = ?", [TOT]
        ).fetchone()
        sql_gemeld = set(
            conn.execute(
                "SELECT gemeentecode, uwv_kenmerk, zekerheid FROM benchmark_signalen "
                "WHERE uitkomst = 'gemeld'"
            ).fetchall()
        )
    return gemeld, events, sql_gemeld


def _signal_path_against_pandas(werk: Werk, database: Path, ours: _Ours) -> Figuur:
    """The same day's work in vectorised pandas, once: how many times our time it takes."""
    from benchmarks.pandas_signaalpad import signaalpad as pandas_signaalpad

    pandas_rapporten = werk.map / "rapporten-pandas"
    shutil.rmtree(pandas_rapporten, ignore_errors=True)
    start = time.perf_counter()
    uitkomst = pandas_signaalpad(database, TOT, pandas_rapporten)
    p = time.perf_counter() - start
    pandas_gemeld = set(
        uitkomst.loc[
            uitkomst["uitkomst"] == "gemeld", ["gemeentecode", "uwv_kenmerk", "zekerheid"]
        ].itertuples(index=False, name=None)
    )
    bestanden_pandas = len(list(pandas_rapporten.glob("GM*/*.csv")))
    zelfde = pandas_gemeld == ours.gemeld and bestanden_pandas == ours.reports
    a = ours.seconds
    return Figuur(
        "signaalpad stressdag: pandas / ons",
        "≥ 20×",
        p / a,
        p / a >= 20 and zelfde,
        a,
        p,
        "s",
        reden="" if zelfde else "NIET HETZELFDE WERK: de pandas-versie meldt andere signalen",
    )


def figuur_backfill(werk: Werk) -> Figuur:
    """uwv_events of `backfill_dagen` days in one run, against one ordinary day.

    One run over their range is what a UI backfill launches (the asset's single-run policy).
    """
    from lks_pipeline.ingest.assets import uwv_events

    dagen = [p.name[8:16] for p in werk.bestanden("uwv", "uwv_lks_*.csv")]
    dagen = [f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in dagen][-werk.opzet.backfill_dagen :]

    def backfill() -> float:
        database = werk.database("backfill")
        result = getimed(lambda: werk.materialiseer(database, [uwv_events], partitions=dagen))
        with duckdb.connect(str(database), read_only=True) as conn:
            sql = "SELECT count(DISTINCT leverdatum) FROM uwv_events"
            (geladen,) = conn.execute(sql).fetchone()
        if geladen != len(dagen):
            raise RuntimeError(f"backfill laadde {geladen} van {len(dagen)} dagen")
        return result

    def een_dag() -> float:
        database = werk.database("een-dag")  # an ordinary day, not the stress day
        return getimed(lambda: werk.materialiseer(database, [uwv_events], dagen[-2]))

    a, b, samples = mediaan_paar(backfill, een_dag, werk.opzet.rondes)
    dagster = vloer(werk, [leeg("leeg_uwv_events", dag_partitions)], dagen)
    ratio = a / b
    return Figuur(
        f"backfill uwv_events {len(dagen)} dagen vs 1 dag",
        "≤ 3×",
        ratio,
        ratio <= 3,
        a,
        b,
        "s",
        reden=vloer_tekst(dagster, b, f"dezelfde {len(dagen)} dagen"),
        extra={"samples": samples, "dagster_vloer_s": dagster},
    )


def figuur_sensor(werk: Werk) -> Figuur:
    """The verwijsindex sensor's ticks over an inbox of many files: first, quiet, one new file."""
    from lks_pipeline.automation import sensors
    from lks_pipeline.definitions import build_defs
    from lks_pipeline.referentie.data import gemeentecodes

    root = werk.map / "sensor"
    shutil.rmtree(root, ignore_errors=True)
    folder = root / "inbox" / "verwijsindex"
    folder.mkdir(parents=True)
    codes = sorted(gemeentecodes())
    n = werk.opzet.sensor_bestanden
    for i in range(n):
        dag = dt.date(2020, 1, 1) + dt.timedelta(days=i // len(codes))
        (folder / f"verwijsindex_{codes[i % len(codes)]}_{dag:%Y%m%d}.csv").write_text(
            "bsn;cluster\n"
        )
    resources = werk.resources(root / "warehouse" / "lks.duckdb", root)
    defs = build_defs(resources)
    cursor = None
    tijden = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for name in ("eerste", "stil", "een_nieuw"):
            if name == "een_nieuw":
                (folder / f"verwijsindex_{codes[0]}_{TOT:%Y%m%d}.csv").write_text("bsn;cluster\n")
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"lks": resources["lks"]},
                definitions=defs,
            )
            start = time.perf_counter()
            data = sensors.verwijsindex_sensor.evaluate_tick(context)
            tijden[name] = time.perf_counter() - start
            cursor = data.cursor
    slechtste = max(tijden.values())
    return Figuur(
        f"sensor-tick, {n:,} bestanden in de inbox (slechtste van 3)",
        "≤ 1 s",
        slechtste,
        slechtste <= 1,
        slechtste,
        1.0,
        "s",
        reden="ticks: " + ", ".join(f"{k} {v:.2f} s" for k, v in tijden.items()),
        extra={"ticks_s": tijden},
    )


def _omgeving(extra_env: dict) -> dict:
    """This environment without the caller's LKS_ and DAGSTER_ settings, plus `extra_env`."""
    eigen = {k: v for k, v in os.environ.items() if not k.startswith(("LKS_", "DAGSTER_"))}
    return eigen | extra_env


def _timed_command(argumenten: list[str], extra_env: dict) -> float:
    """Wall-clock seconds of one command, in `_omgeving`."""
    start = time.perf_counter()
    subprocess.run(argumenten, env=_omgeving(extra_env), cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def figuur_process(werk: Werk) -> Figuur:
    """`lks-pipeline process` on the demo inbox, against `dagster asset materialize` of a no-op."""
    bin_ = Path(sys.executable).parent

    def ons() -> float:
        root = werk.map / "process"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(REPO / "data" / "inbox", root / "inbox")
        home = root / "dagster_home"
        return _timed_command(
            [str(bin_ / "lks-pipeline"), "process"],
            {"LKS_DATA_DIR": str(root), "DAGSTER_HOME": str(home)},
        )

    def vloer() -> float:
        home = werk.map / "vloer"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        materialize = ["asset", "materialize", "-f", str(HIER / "triviaal.py")]
        return _timed_command(
            [str(bin_ / "dagster"), *materialize, "--select", "triviaal"],
            {"DAGSTER_HOME": str(home)},
        )

    a, b, samples = mediaan_paar(ons, vloer, max(2, werk.opzet.rondes))
    ratio = a / b
    return Figuur(
        "lks-pipeline process (demo) vs dagster-vloer",
        "≤ 2×",
        ratio,
        ratio <= 2,
        a,
        b,
        "s",
        extra={"samples": samples},
    )


# The whole job, national: `process` from an empty warehouse, then a daily increment, against the
# plain script (`kaal.py`) doing the same, round by round.
TOENAME = TOT + dt.timedelta(days=1)
GEWIJZIGDE_VERWIJSINDEXEN = 10


@dataclass
class Gemeten:
    """One command's wall-clock seconds and the peak RSS of its whole process tree."""

    seconden: float
    piek_rss_mb: float


def gemeten_commando(argumenten: list[str], extra_env: dict, cwd: Path = REPO) -> Gemeten:
    """Run one command; sample the RSS of it and all its descendants every 20 ms.

    The sum over the tree, because `process` may parse in worker processes: what the machine
    must hold is all of them at once. Fails on a non-zero exit. Standard error goes to a file,
    not a pipe: a pipe nobody reads until the end would stop a command that writes much.
    """
    import psutil

    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        kind = subprocess.Popen(
            argumenten,
            env=_omgeving(extra_env),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        boom, piek = psutil.Process(kind.pid), 0
        while kind.poll() is None:
            try:
                processen = [boom, *boom.children(recursive=True)]
                piek = max(piek, sum(_rss(p) for p in processen))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.02)
        seconden = time.perf_counter() - start
        stderr.seek(0)
        fout = stderr.read().decode(errors="replace")
    if kind.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argumenten[:3])} gaf exit {kind.returncode}:\n{fout[-2000:]}"
        )
    return Gemeten(seconden, piek / 2**20)


def _rss(proces) -> int:
    import psutil

    try:
        return proces.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def _koppel(bron: Path, doel: Path) -> None:
    """`doel` as a copy of `bron`; files in an inbox as hard links (the same bytes, no disk)."""

    def kopieer(van: str, naar: str) -> None:
        (os.link if "inbox" in Path(naar).parts else shutil.copy2)(van, naar)

    shutil.copytree(bron, doel, copy_function=kopieer, dirs_exist_ok=True)


class EindTotEind:
    """The folders of the whole-job figures: the first inbox, the increment, both sides' state."""

    def __init__(self, werk: Werk):
        self.werk = werk
        self.map = werk.map / "eind-tot-eind"
        self.eerste = self.map / "eerste"  # the first load's inbox, under eerste/inbox
        self.toename = self.map / "toename"  # the increment's new files, under toename/inbox
        self.bin = Path(sys.executable).parent

    def maak(self) -> None:
        """Every verwijsindex and DKD file and one UWV day (the stress day); then the increment:
        the UWV day before it delivered again as the next day, and ten changed verwijsindexen.
        """  # noqa: D205
        shutil.rmtree(self.map, ignore_errors=True)
        inbox = self.werk.inbox
        for map_ in ("verwijsindex", "dkd"):
            _koppel(inbox / map_, self.eerste / "inbox" / map_)
        (self.eerste / "inbox" / "uwv").mkdir(parents=True)
        os.link(
            inbox / "uwv" / f"uwv_lks_{TOT:%Y%m%d}.csv",
            self.eerste / "inbox" / "uwv" / f"uwv_lks_{TOT:%Y%m%d}.csv",
        )
        uwv = self.toename / "inbox" / "uwv"
        uwv.mkdir(parents=True)
        vorige = inbox / "uwv" / f"uwv_lks_{TOT - dt.timedelta(days=1):%Y%m%d}.csv"
        (uwv / f"uwv_lks_{TOENAME:%Y%m%d}.csv").write_bytes(vorige.read_bytes())
        vi = self.toename / "inbox" / "verwijsindex"
        vi.mkdir(parents=True)
        for code in self.werk.gemeenten("verwijsindex", "verwijsindex_*.csv")[
            :GEWIJZIGDE_VERWIJSINDEXEN
        ]:
            nieuwste = self.werk.bestanden("verwijsindex", f"verwijsindex_{code}_*.csv")[-1]
            kop, *regels = nieuwste.read_bytes().splitlines(keepends=True)
            gewijzigd = [r for i, r in enumerate(regels) if i % 20 != 7]  # 5% leave
            (vi / f"verwijsindex_{code}_{TOENAME:%Y%m%d}.csv").write_bytes(
                b"".join([kop, *gewijzigd])
            )

    def ons(self, doel: Path, bron: Path | None = None) -> Gemeten:
        """`lks-pipeline process` on `doel`: a fresh data root with the first inbox, or a copy
        of the loaded `bron` with the increment's files added (new inodes, as delivered).
        """  # noqa: D205
        shutil.rmtree(doel, ignore_errors=True)
        if bron is None:
            _koppel(self.eerste, doel / "data")
            (doel / "dagster_home").mkdir()
        else:
            _koppel(bron, doel)
            shutil.copytree(self.toename / "inbox", doel / "data" / "inbox", dirs_exist_ok=True)
        return gemeten_commando(
            [str(self.bin / "lks-pipeline"), "process", "-q"],
            {"LKS_DATA_DIR": str(doel / "data"), "DAGSTER_HOME": str(doel / "dagster_home")},
        )

    def kaal(self, doel: Path, bron: Path | None = None) -> Gemeten:
        """The plain script on the same inbox: from nothing, or from the loaded `bron`."""
        shutil.rmtree(doel, ignore_errors=True)
        if bron is None:
            doel.mkdir(parents=True)
            root = self.eerste
        else:
            _koppel(bron, doel)
            root = doel / "data"
            _koppel(self.eerste, root)
            shutil.copytree(self.toename / "inbox", root / "inbox", dirs_exist_ok=True)
        return gemeten_commando(
            [
                sys.executable,
                "-m",
                "benchmarks.kaal",
                str(root),
                str(doel / "kaal.duckdb"),
                str(doel / "rapporten"),
            ],
            {},
        )


def zelfde_rapporten(ons: Path, kaal: Path, dag: dt.date) -> str:
    """Empty when both folders hold the same reports of `dag`, byte for byte; else what differs."""
    patroon = f"GM*/*_{dag:%Y%m%d}.csv"
    a = {p.relative_to(ons): p for p in ons.glob(patroon)}
    b = {p.relative_to(kaal): p for p in kaal.glob(patroon)}
    if not a:
        return "geen rapporten geschreven"
    if a.keys() != b.keys():
        return (
            f"andere bestanden: {len(a.keys() - b.keys())} alleen bij ons, "
            f"{len(b.keys() - a.keys())} alleen in het script"
        )
    anders = [str(k) for k in sorted(a) if a[k].read_bytes() != b[k].read_bytes()]
    return f"{len(anders)} rapporten verschillen, o.a. {anders[0]}" if anders else ""


@dataclass
class EindMeting:
    """Both sides of the whole job, each round: seconds, peak RSS, whether the reports agree."""

    metingen: dict[str, list[Gemeten]]
    eerste: tuple[float, float, dict]
    toename: tuple[float, float, dict]
    verschil: str
    verschil_toename: str
    rapporten: int


def meet_eind_tot_eind(werk: Werk) -> EindMeting:
    """First loads, then increments on the last first load's state, alternating the sides."""
    e2e = EindTotEind(werk)
    e2e.maak()
    metingen: dict[str, list[Gemeten]] = {
        k: [] for k in ("ons", "kaal", "ons_toename", "kaal_toename")
    }

    def meet(naam: str, doen: Callable[[], Gemeten]) -> Callable[[], float]:
        def een() -> float:
            metingen[naam].append(doen())
            return metingen[naam][-1].seconden

        return een

    ons, kaal = e2e.map / "ons", e2e.map / "kaal"
    ons_t, kaal_t = e2e.map / "ons-toename", e2e.map / "kaal-toename"
    rondes = werk.opzet.rondes
    eerste = mediaan_paar(
        meet("ons", lambda: e2e.ons(ons)), meet("kaal", lambda: e2e.kaal(kaal)), rondes
    )
    toename = mediaan_paar(
        meet("ons_toename", lambda: e2e.ons(ons_t, ons)),
        meet("kaal_toename", lambda: e2e.kaal(kaal_t, kaal)),
        rondes,
    )
    return EindMeting(
        metingen,
        eerste,
        toename,
        zelfde_rapporten(ons / "data" / "reports", kaal / "rapporten", TOT),
        zelfde_rapporten(ons_t / "data" / "reports", kaal_t / "rapporten", TOENAME),
        len(list((kaal / "rapporten").glob("GM*/*.csv"))),
    )


def _gelijk(verschil: str) -> str:
    return "NIET HETZELFDE WERK: " + verschil if verschil else "rapporten byte voor byte gelijk"


def figuren_eind_tot_eind(werk: Werk) -> list[Figuur]:
    """The headline: the whole `process`, first load and daily increment, against `kaal.py`."""
    m = meet_eind_tot_eind(werk)
    a, b, samples = m.eerste
    c, d, samples_toename = m.toename
    ons = m.metingen["ons"] + m.metingen["ons_toename"]
    piek = max(g.piek_rss_mb for g in ons)
    piek_kaal = max(g.piek_rss_mb for g in m.metingen["kaal"] + m.metingen["kaal_toename"])
    rss = {k: [asdict(g) for g in v] for k, v in m.metingen.items()}
    return [
        Figuur(
            f"lks-pipeline process, eerste lading ({m.rapporten} rapporten)",
            "≤ 2×",
            a / b,
            a / b <= 2 and not m.verschil,
            a,
            b,
            "s",
            reden=_gelijk(m.verschil),
            extra={"samples": samples, "metingen": rss},
        ),
        Figuur(
            f"lks-pipeline process, dagelijkse toename (1 dag, {GEWIJZIGDE_VERWIJSINDEXEN} "
            "verwijsindexen)",
            "≤ 2×, < 10 s",
            c / d,
            c / d <= 2 and c < 10 and not m.verschil_toename,
            c,
            d,
            "s",
            reden=_gelijk(m.verschil_toename),
            extra={"samples": samples_toename},
        ),
        Figuur(
            "lks-pipeline process, piek-RSS procesboom (MB)",
            "≤ 1024 MB",
            piek / 1024,
            piek <= 1024,
            piek,
            piek_kaal,
            "MB",
            reden="ratio = piek / 1 GB; maatstaf = piek van het script",
        ),
    ]


def machine() -> dict:
    """What the numbers were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for regel in cpuinfo.read_text().splitlines():
            if regel.startswith("model name"):
                model = regel.split(":", 1)[1].strip()
                break
    geheugen = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import version

    return {
        "cpu": model,
        "kernen": os.cpu_count(),
        "geheugen_gib": round(geheugen, 1),
        "python": platform.python_version(),
        "dagster": version("dagster"),
        "duckdb": version("duckdb"),
        "lxml": version("lxml"),
        "pandas": version("pandas"),
    }


FIGUREN = ("verwijsindex", "dkd", "signaalpad", "backfill", "sensor", "process", "eind")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen figures; exit 1 when a national figure fails its target."""
    parser = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--snel", action="store_true", help="kleine schaal, < 2 minuten")
    parser.add_argument("--alleen", nargs="+", choices=FIGUREN, help="alleen deze figuren")
    parser.add_argument("--werk", default=str(HIER / "results" / "werk"), help="werkmap")
    parser.add_argument("--uit", help="JSON-bestand (standaard benchmarks/results/<schaal>-*.json)")
    args = parser.parse_args(argv)

    opzet = OPZETTEN["snel" if args.snel else "national"]
    werk = Werk(opzet, Path(args.werk))
    werk.generate()
    begin = time.perf_counter()
    figuren = _run_figures(werk, set(args.alleen or FIGUREN))
    mislukt = [f.naam for f in figuren if not f.geslaagd]
    duur = time.perf_counter() - begin
    uit = _write_result(opzet, figuren, duur, args.uit)
    print(
        f"{len(figuren) - len(mislukt)} van {len(figuren)} figuren gehaald "
        f"in {round(duur, 1):.0f} s; resultaten: {uit}"
    )
    return 1 if mislukt and opzet.streng else 0


def _run_figures(werk: Werk, kies: set[str]) -> list[Figuur]:
    """The chosen figures in a fixed order, each printed as soon as it is measured."""
    figuren: list[Figuur] = []

    def toon(nieuw: list[Figuur]) -> None:
        for figuur in nieuw:
            print(figuur.regel(), flush=True)
        figuren.extend(nieuw)

    if kies & {"verwijsindex", "signaalpad"}:
        vi, database = figuur_verwijsindex(werk)
        if "verwijsindex" in kies:
            toon([vi])
        if "signaalpad" in kies:
            geladen = werk.database("geladen")
            shutil.copyfile(database, geladen)
            laad_rest(werk, geladen)
            toon(figuren_signaalpad(werk, geladen))
    for naam, figuur in (
        ("dkd", figuur_dkd),
        ("backfill", figuur_backfill),
        ("sensor", figuur_sensor),
        ("process", figuur_process),
        ("eind", figuren_eind_tot_eind),
    ):
        if naam in kies:
            gemeten = figuur(werk)
            toon(gemeten if isinstance(gemeten, list) else [gemeten])
    return figuren


def _write_result(opzet: Opzet, figuren: list[Figuur], duur: float, uit: str | None) -> Path:
    """The whole result as JSON: the machine, every figure with its samples, how long it took."""
    uitslag = {
        "schaal": opzet.name,
        "tijdstip": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duur_s": round(duur, 1),
        "machine": machine(),
        "figuren": [asdict(f) for f in figuren],
    }
    pad = (
        Path(uit)
        if uit
        else (HIER / "results" / f"{opzet.name}-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    )
    pad.parent.mkdir(parents=True, exist_ok=True)
    pad.write_text(json.dumps(uitslag, indent=2, ensure_ascii=False, default=str) + "\n")
    return pad


if __name__ == "__main__":
    sys.exit(main())
