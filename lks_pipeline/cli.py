"""`lks-pipeline`: the headless commands (DESIGN 7).

- `generate` writes a synthetic inbox.
- `process` (DESIGN 7) runs, through the same Definitions and the `DAGSTER_HOME` instance as
  the UI (so its runs show there), first the reference and ingest assets of every partition
  whose inbox files changed since its last materialization (the files' fingerprint: name, size,
  mtime, kept in that materialization's metadata), one run per job: a feed's partitions go in
  one run over their range, tagged so that a partition already holding its newest file is not
  read again (`--alles` re-reads every partition and re-runs every day), then, in date order,
  the signal path
  (`signalen_job`: webservice queries, aanleverfouten, signals, reports, deadlines, and the
  `notificaties` mail step) of every delivery day whose signal path is older than its
  uwv_events, then `notificaties_job` when an earlier run left mail unsent, and finally one
  refresh of the analysts' copy (`analyse_job`) when anything ran. The decisions are
  `plan.py`'s, the same the sensors make. A second run with nothing new runs nothing.
- `dev` starts the UI (`dagster dev`) on the same instance.

`DAGSTER_HOME` defaults to `.dagster_home/` in the working directory, created with the packaged
`dagster.yaml` (the writers' pool limit, one run at a time, telemetry off) when it has none, and
brought up to date when its `dagster.yaml` is an older copy of ours.
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lks_pipeline.reference_data import package_file

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

TOTALEN = (
    "bestanden gelezen",
    "bestanden afgewezen",
    "regels in quarantaine",
    "events",
    "gemeld",
    "niet_routeerbaar",
    "signalen in rapporten",
    "rapporten geschreven",
    "notificaties verzonden",
)


# A range run's materializations, one per partition, go to PostgreSQL in one INSERT instead of
# one each (dagster-postgres' store_event_batch); SQLite stores them one by one either way. A
# no-op run over 365 partitions on PostgreSQL: 15 s without, 5.4 s with. deploy/ sets the same.
EVENT_BATCH_SIZE = "1000"


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at a persistent folder that carries our instance settings."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    ours = package_file("dagster.yaml").read_text()
    # A dagster.yaml this command wrote follows the package; one an operator wrote is kept.
    if not config.exists() or (
        config.read_text().startswith(ours.splitlines()[0]) and config.read_text() != ours
    ):
        shutil.copyfile(package_file("dagster.yaml"), config)
    return home


def data_dir() -> Path:
    """The data root (LKS_DATA_DIR, default `data/` of the working directory)."""
    return Path(os.environ.get("LKS_DATA_DIR", "data")).resolve()


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic inbox; refuses to mix with an existing one unless told to replace it."""
    from lks_pipeline.generate import SCHALEN, Schaal, genereer

    basis = SCHALEN[args.schaal]
    schaal = Schaal(
        **{
            veld: getattr(args, veld) if getattr(args, veld) is not None else getattr(basis, veld)
            for veld in Schaal.__dataclass_fields__
        }
    )
    uit = Path(args.uit) if args.uit else data_dir() / "inbox"
    if uit.exists() and any(uit.iterdir()):
        if not args.overschrijf:
            print(
                f"{uit} is niet leeg; gebruik --overschrijf om het te vervangen.", file=sys.stderr
            )
            return 2
        for folder in ("uwv", "verwijsindex", "dkd"):
            shutil.rmtree(uit / folder, ignore_errors=True)
    start = time.monotonic()
    resultaat = genereer(uit, schaal, args.seed, dt.date.fromisoformat(args.tot))
    grootte = sum(p.stat().st_size for p in resultaat.bestanden)
    print(
        f"{len(resultaat.bestanden)} bestanden ({grootte / 1e6:.1f} MB) in {uit} "
        f"in {time.monotonic() - start:.1f} s; bewust foute regels: {resultaat.quarantaine}"
    )
    return 0


@dataclass
class _Verloop:
    """Counts over the runs of one `process`, for its summary."""

    geslaagd: int = 0
    mislukt: int = 0
    totalen: dict = field(default_factory=lambda: dict.fromkeys(TOTALEN, 0))
    aanleverfouten: tuple[str, int] | None = None  # (newest day processed, its rows)


def _run(defs, instance, verloop: _Verloop, job: str, partition, assets, label: str, tags=None):
    """Execute one run; return each asset's metadata per partition (None: unpartitioned).

    None when the run failed.

    A failure prints the run id and the failing steps only: an error text could quote input.
    """
    import dagster as dg

    from lks_pipeline import herstel

    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=partition,
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
        run_config=QUIET_RUN_CONFIG,
        tags={"lks/command": "process", **herstel.run_tags(), **(tags or {})},
        raise_on_error=False,
    )
    if not result.success:
        verloop.mislukt += 1
        stappen = sorted({e.step_key for e in result.get_step_failure_events()})
        print(f"{label}: MISLUKT in {', '.join(stappen)} (run {result.run_id}; zie de UI)")
        return None
    verloop.geslaagd += 1
    per_asset: dict[str, dict[str | None, dict]] = {}
    for event in result.get_asset_materialization_events():
        metadata = {k: v.value for k, v in event.materialization.metadata.items()}
        per_asset.setdefault(event.asset_key.to_user_string(), {})[event.partition] = metadata
        for key in verloop.totalen:
            value = metadata.get(key, 0)
            verloop.totalen[key] += value if isinstance(value, int) else 0
    return per_asset


def cmd_process(args: argparse.Namespace) -> int:
    """Ingest what is new, then the signal path of each delivery day that is behind.

    Exit 1 only when a run itself failed (a step error, a blocking check); rejected files and
    quarantined rows are data problems, recorded in the warehouse.
    """
    ensure_dagster_home()
    import dagster as dg

    from lks_pipeline import herstel, plan
    from lks_pipeline.assets.feeds import ALLEEN_NIEUW
    from lks_pipeline.definitions import default_warehouse, defs
    from lks_pipeline.jobs import SIGNAALPAD
    from lks_pipeline.partitions import doel

    signaalpad = [asset.key.to_user_string() for asset in SIGNAALPAD]

    instance = dg.DagsterInstance.get()
    hersteld = herstel.herstel(instance)
    for run in hersteld:
        print(f"Hersteld: {run}")
    verloop = _Verloop()
    taken = plan.alle_taken(data_dir() / "inbox")
    todo = taken if args.alles else plan.achter(instance, taken)
    print(f"Inbox {data_dir() / 'inbox'}: {len(taken)} partities, {len(todo)} met nieuwe bestanden")
    runs = plan.bundel(todo)
    alleen_nieuw = {} if args.alles else {ALLEEN_NIEUW: "ja"}
    for i, run in enumerate(runs, 1):
        label = f"[{i}/{len(runs)}] {run.naam}"
        tags = {**run.tags, **alleen_nieuw}
        per_asset = _run(defs, instance, verloop, run.job, None, run.assets, label, tags)
        if per_asset is not None:
            events = [m for asset in run.assets for m in per_asset[asset].values()]

            def som(key: str, events=events) -> int:
                return sum(m.get(key, 0) for m in events)

            rijen = som("dagster/partition_row_count") + som("dagster/row_count")
            print(
                f"{label}: {rijen} rijen, {som('regels in quarantaine')} in quarantaine, "
                f"{som('bestanden afgewezen')} bestand(en) afgewezen"
            )

    dagen = sorted(t.partition for t in taken if t.asset == "uwv_events")
    achter = dagen if args.alles else plan.dagen_achter(instance, dagen)
    reeksen = plan.reeksen(achter)
    print(f"Signalen: {len(dagen)} leverdagen, {len(achter)} te verwerken in {len(reeksen)} run(s)")
    for i, reeks in enumerate(reeksen, 1):
        naam = reeks[0] if len(reeks) == 1 else f"{reeks[0]}..{reeks[-1]} ({len(reeks)} dagen)"
        label = f"[{i}/{len(reeksen)}] signalen {naam}"
        partitie, tags = doel(reeks)
        per_asset = _run(defs, instance, verloop, "signalen_job", partitie, signaalpad, label, tags)
        if per_asset is None:
            continue
        verzonden = per_asset["notificaties"][None]["notificaties verzonden"]
        print(f"{label}: {verzonden} notificaties verzonden")
        for dag in reeks:
            signalen, rapporten = per_asset["signalen"][dag], per_asset["signaalrapporten"][dag]
            fouten = per_asset["dkd_aanleverfouten"][dag]
            verloop.aanleverfouten = (dag, fouten["dagster/partition_row_count"])
            print(
                f"  {dag}: {signalen['events']} events, {signalen['gemeld']} gemeld, "
                f"{signalen['niet_routeerbaar']} niet routeerbaar; "
                f"{rapporten['dagster/partition_row_count']} rapporten "
                f"({rapporten['rapporten geschreven']} geschreven); "
                f"{fouten['dagster/partition_row_count']} aanleverfouten bij "
                f"{fouten['gemeenten met fouten']} gemeenten"
            )
    if not achter and plan.notificaties_achter(instance):
        # Mail an earlier process could not send (SMTP down); a day's run above sends it too.
        label = "notificaties"
        per_asset = _run(defs, instance, verloop, "notificaties_job", None, [label], label)
        if per_asset is not None:
            print(f"{label}: {per_asset[label][None]['notificaties verzonden']} verzonden")
    if verloop.geslaagd + verloop.mislukt or hersteld:
        # One refresh of the analysts' copy for everything this process (or a killed one) changed.
        _run(defs, instance, verloop, "analyse_job", None, None, "analysekopie")

    t = verloop.totalen
    print(
        f"Klaar: {verloop.geslaagd} runs geslaagd, {verloop.mislukt} mislukt. "
        f"Bestanden gelezen: {t['bestanden gelezen']} ({t['bestanden afgewezen']} afgewezen, "
        f"{t['regels in quarantaine']} regels in quarantaine). Signalen: {t['events']} events, "
        f"{t['gemeld']} gemeld, {t['niet_routeerbaar']} niet routeerbaar. Rapporten: "
        f"{t['rapporten geschreven']} geschreven, {t['signalen in rapporten']} signalen. "
        f"Notificaties: {t['notificaties verzonden']} verzonden."
        + (
            f" Aanleverfouten op {verloop.aanleverfouten[0]}: {verloop.aanleverfouten[1]}."
            if verloop.aanleverfouten
            else ""
        )
    )
    database = Path(os.environ.get("LKS_DUCKDB_PATH", default_warehouse())).resolve()
    print(f"Rapporten: {data_dir() / 'reports'}/GMxxxx/")
    print(f"Warehouse: {database} (schema main); runs en checks in de UI: lks-pipeline dev")
    print(f"Voor analisten: {database.with_name('lks_analyse.duckdb')} (alleen-lezen kopie)")
    return 1 if verloop.mislukt else 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Replace this process with `dagster dev` on the same DAGSTER_HOME."""
    home = ensure_dagster_home()
    print(f"DAGSTER_HOME={home}")
    extra = args.dagster_args[1:] if args.dagster_args[:1] == ["--"] else args.dagster_args
    # The dagster of this environment, also when its bin/ is not on PATH.
    naast = Path(sys.executable).parent / "dagster"
    dagster = str(naast) if naast.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-w", "workspace.yaml", *extra])
    return 0  # unreachable: execvp replaces this process


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lks-pipeline` console script."""
    parser = argparse.ArgumentParser(prog="lks-pipeline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="schrijf een synthetische inbox")
    gen.add_argument("--schaal", choices=["demo", "klein", "national"], default="demo")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--tot", default="2026-11-20", help="laatste leverdag (JJJJ-MM-DD)")
    gen.add_argument("--uit", help="doelmap (standaard: $LKS_DATA_DIR/inbox)")
    gen.add_argument("--overschrijf", action="store_true", help="vervang een bestaande inbox")
    for veld in (
        "gemeenten",
        "verwijsindex_rijen",
        "dkd_clienten",
        "events_per_dag",
        "dagen",
        "stressdag_events",
    ):
        gen.add_argument(f"--{veld.replace('_', '-')}", dest=veld, type=int)
    gen.set_defaults(func=cmd_generate)

    proc = sub.add_parser(
        "process", help="verwerk alles wat nieuw is in de inbox: warehouse en signaalrapporten"
    )
    proc.add_argument("--alles", action="store_true", help="ook ongewijzigde partities en dagen")
    proc.set_defaults(func=cmd_process)

    dev = sub.add_parser("dev", help="start de Dagster UI op dezelfde instance")
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER)
    dev.set_defaults(func=cmd_dev)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
