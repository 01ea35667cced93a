"""`lks-pipeline`: the headless commands (DESIGN 7).

- `generate` writes a synthetic inbox.
- `ingest` materializes the reference and ingest assets for every partition whose inbox files
  changed since its last materialization, through the same Definitions and the `DAGSTER_HOME`
  instance as the UI, so its runs show there. A partition is skipped when the files' fingerprint
  (name, size, mtime) equals the one in its last materialization's metadata.
- `dev` starts the UI (`dagster dev`) on the same instance.

`DAGSTER_HOME` defaults to `.dagster_home/` in the working directory, created with the packaged
`dagster.yaml` (the writers' pool limit, telemetry off) when it has none.
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lks_pipeline.reference_data import package_file

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at a persistent folder that carries our instance settings."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
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
class _Taak:
    job: str
    asset: str
    partition: str | None
    vingerafdruk: str

    @property
    def naam(self) -> str:
        return self.asset + (f" {self.partition}" if self.partition else "")


def _taken() -> list[_Taak]:
    """Every (asset, partition) the inbox and the package touch, in dependency order."""
    from lks_pipeline.assets.referentie import vingerafdruk
    from lks_pipeline.feeds import inbox

    leveringen, onleesbaar = inbox.scan(data_dir() / "inbox")
    taken = [
        _Taak("referentie_job", asset, None, vingerafdruk(bestand))
        for asset, bestand in (
            ("gemeenten", "gemeenten.csv"),
            ("doelgroepregister_codes", "doelgroepregister_codes.csv"),
        )
    ]
    taken.append(
        _Taak("inbox_job", "inbox_bestandsnamen", None, inbox.vingerafdruk_onleesbaar(onleesbaar))
    )
    jobs = {
        "dkd_instellingen": ("inbox_job", "dkd_instellingen"),
        "verwijsindex": ("verwijsindex_job", "verwijsindex"),
        "dkd_reintegratie": ("dkd_reintegratie_job", "dkd_reintegratie"),
        "uwv": ("uwv_events_job", "uwv_events"),
    }
    per_partition: dict[tuple[str, str | None], list] = {}
    for lv in sorted(leveringen, key=lambda lv: (list(jobs).index(lv.feed), lv.partitie or "")):
        per_partition.setdefault((lv.feed, lv.partitie), []).append(lv)
    for (feed, partitie), files in per_partition.items():
        job, asset = jobs[feed]
        taken.append(_Taak(job, asset, partitie, inbox.vingerafdruk(files)))
    return taken


def _laatste_vingerafdruk(instance, taak: _Taak) -> str | None:
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(taak.asset),
            asset_partitions=[taak.partition] if taak.partition else None,
        ),
        limit=1,
    ).records
    if not records:
        return None
    value = records[0].asset_materialization.metadata.get("vingerafdruk")
    return value.value if value is not None else None


def cmd_ingest(args: argparse.Namespace) -> int:
    """Materialize what changed; exit 1 only when a run itself failed, not for bad data."""
    ensure_dagster_home()
    import dagster as dg

    from lks_pipeline.definitions import defs

    instance = dg.DagsterInstance.get()
    taken = _taken()
    todo = [t for t in taken if args.alles or _laatste_vingerafdruk(instance, t) != t.vingerafdruk]
    print(f"Inbox {data_dir() / 'inbox'}: {len(taken)} partities, {len(todo)} met nieuwe bestanden")
    mislukt = 0
    totalen = {"bestanden gelezen": 0, "bestanden afgewezen": 0, "regels in quarantaine": 0}
    for i, taak in enumerate(todo, 1):
        result = defs.resolve_job_def(taak.job).execute_in_process(
            instance=instance,
            partition_key=taak.partition,
            asset_selection=[dg.AssetKey(taak.asset)],
            run_config=QUIET_RUN_CONFIG,
            tags={"lks/command": "ingest"},
            raise_on_error=False,
        )
        if not result.success:
            mislukt += 1
            print(f"[{i}/{len(todo)}] {taak.naam}: MISLUKT (run {result.run_id})")
            continue
        metadata = {
            k: v.value
            for event in result.get_asset_materialization_events()
            for k, v in event.materialization.metadata.items()
        }
        for key in totalen:
            totalen[key] += int(metadata.get(key, 0))
        rijen = metadata.get("dagster/partition_row_count", metadata.get("dagster/row_count", 0))
        print(
            f"[{i}/{len(todo)}] {taak.naam}: {rijen} rijen, "
            f"{metadata.get('regels in quarantaine', 0)} in quarantaine, "
            f"{metadata.get('bestanden afgewezen', 0)} bestand(en) afgewezen"
        )
    database = os.environ.get("LKS_DUCKDB_PATH", str(data_dir() / "warehouse" / "lks.duckdb"))
    print(
        f"Klaar: {len(todo) - mislukt} runs geslaagd, {mislukt} mislukt; "
        + ", ".join(f"{k}: {v}" for k, v in totalen.items())
    )
    print(f"Warehouse: {database} (tabellen in schema main; runs in de UI: lks-pipeline dev)")
    return 1 if mislukt else 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Replace this process with `dagster dev` on the same DAGSTER_HOME."""
    home = ensure_dagster_home()
    print(f"DAGSTER_HOME={home}")
    extra = args.dagster_args[1:] if args.dagster_args[:1] == ["--"] else args.dagster_args
    os.execvp("dagster", ["dagster", "dev", "-w", "workspace.yaml", *extra])
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
    for veld in ("gemeenten", "verwijsindex_rijen", "dkd_clienten", "events_per_dag", "dagen"):
        gen.add_argument(f"--{veld.replace('_', '-')}", dest=veld, type=int)
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="lees alles wat nieuw is in de inbox in het warehouse")
    ing.add_argument("--alles", action="store_true", help="ook ongewijzigde partities")
    ing.set_defaults(func=cmd_ingest)

    dev = sub.add_parser("dev", help="start de Dagster UI op dezelfde instance")
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER)
    dev.set_defaults(func=cmd_dev)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
