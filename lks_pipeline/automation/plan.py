"""What is behind: the decisions `lks-pipeline process` and the sensors share (rules 7).

Everything here reads the inbox listing and the Dagster instance, never the warehouse, so a
sensor tick can call it while a run holds the DuckDB file.

- An ingest partition is up to date when its latest materialization recorded the inbox
  fingerprint (name, size, mtime of its files) that the inbox shows now.
- A delivery day is behind when its signal path is older than its `uwv_events`.
- `notificaties` is behind when a report was materialized after its last success.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lks_pipeline.aanleverfouten.assets import dkd_aanleverfouten
from lks_pipeline.automation import jobs
from lks_pipeline.core.partitions import bereik, gemeente_partitions
from lks_pipeline.ingest import inbox
from lks_pipeline.ingest.assets import (
    dkd_instellingen,
    dkd_reintegratie,
    inbox_bestandsnamen,
    uwv_events,
    verwijsindex,
)
from lks_pipeline.notificaties.assets import notificaties
from lks_pipeline.rapporten.assets import signaalrapporten
from lks_pipeline.referentie import assets as referentie
from lks_pipeline.referentie.data import fingerprint as pakket_vingerafdruk
from lks_pipeline.signalen.assets import poortwachter_termijnen, signalen

# A day is done when these daily tables were rewritten after its uwv_events: the decision
# `process` and the sensors have always made (dkd_webservice runs in the same job; notificaties
# has no partitions).
DAG_KLAAR = tuple(
    a.key for a in (dkd_aanleverfouten, signalen, signaalrapporten, poortwachter_termijnen)
)
INGEST = {  # feed -> (job, asset)
    "dkd_instellingen": (jobs.inbox_job, dkd_instellingen.key),
    "verwijsindex": (jobs.verwijsindex_job, verwijsindex.key),
    "dkd_reintegratie": (jobs.dkd_reintegratie_job, dkd_reintegratie.key),
    "uwv": (jobs.uwv_events_job, uwv_events.key),
}
REFERENTIE = {
    referentie.gemeenten.key: "gemeenten.csv",
    referentie.doelgroepregister_codes.key: "doelgroepregister_codes.csv",
}
INGEST_JOBS = (
    jobs.referentie_job,
    jobs.inbox_job,
    jobs.verwijsindex_job,
    jobs.dkd_reintegratie_job,
)
VOOR_DAG_FEEDS = ("dkd_instellingen", "verwijsindex", "dkd_reintegratie")  # a day waits for these
MAX_DAGEN_PER_RUN = 31
# A partition without files in a run's range costs ~17 ms (planned and recorded on the SQLite
# instance); a run of its own ~0.45 s to start (measured on the demo). Past this gap, split.
MAX_GAT = 25
GEMEENTE_POSITIE = {code: i for i, code in enumerate(gemeente_partitions.get_partition_keys())}


@dataclass
class Taak:
    """One (asset, partition) and the fingerprint of the files it reads."""

    job: jobs.AssetJob
    asset: dg.AssetKey
    partition: str | None
    vingerafdruk: str

    @property
    def naam(self) -> str:
        return self.asset.to_user_string() + (f" {self.partition}" if self.partition else "")


def ingest_taken(
    inbox_dir: Path,
    feeds: tuple[str, ...] = tuple(INGEST),
    leveringen: list[inbox.Levering] | None = None,
) -> list[Taak]:
    """Every ingest (asset, partition) the inbox touches, in dependency order.

    `leveringen`: a listing the caller already made (a sensor tick lists its folder once).
    """
    if leveringen is None:
        leveringen, _ = inbox.scan(inbox_dir)
    per_partition: dict[tuple[str, str | None], list] = {}
    for lv in sorted(leveringen, key=lambda lv: (list(INGEST).index(lv.feed), lv.partitie or "")):
        if lv.feed in feeds:
            per_partition.setdefault((lv.feed, lv.partitie), []).append(lv)
    return [
        Taak(*INGEST[feed], partitie, inbox.vingerafdruk(files))
        for (feed, partitie), files in per_partition.items()
    ]


@dataclass
class Bundel:
    """One run: the tasks of one job, its partitioned asset over one range of partitions."""

    job: jobs.AssetJob
    taken: list[Taak]

    @property
    def assets(self) -> list[dg.AssetKey]:
        return list(dict.fromkeys(t.asset for t in self.taken))

    @property
    def partities(self) -> list[str]:
        return [t.partition for t in self.taken if t.partition is not None]

    @property
    def tags(self) -> dict[str, str]:
        return bereik(self.partities) if self.partities else {}

    @property
    def naam(self) -> str:
        p = sorted(self.partities)
        if len(p) > 1:
            return f"{self.assets[0].to_user_string()} {p[0]}..{p[-1]} ({len(p)} partities)"
        return ", ".join(t.naam for t in self.taken)


def bundel(taken: list[Taak], max_gat: int = MAX_GAT) -> list[Bundel]:
    """The tasks as runs per job, in the order the jobs first appear (dependency order).

    Starting a run costs more than reading most partitions (`assets/feeds.py`), so a job's
    partitions go in one run over their range. But every partition in a range is planned and
    recorded, also one without files, so a gap of more than `max_gat` partitions between two
    that have new files starts a new run: a demo or a pilot with a few gemeenten then records
    the gemeenten that delivered, not the hundreds between them.
    """
    per_job: dict[str, list[Taak]] = {}
    for taak in taken:
        per_job.setdefault(taak.job.name, []).append(taak)
    result = []
    for deel in per_job.values():
        job = deel[0].job
        if any(t.partition is None for t in deel):
            result.append(Bundel(job, deel))
            continue
        stukken = _stukken(deel, lambda t: _positie(t.partition), max_gat)
        result += [Bundel(job, stuk) for stuk in stukken]
    return result


def _positie(partitie: str) -> int:
    """Where a partition key lies in its scheme: a gemeente's place, or a day's ordinal."""
    if partitie in GEMEENTE_POSITIE:
        return GEMEENTE_POSITIE[partitie]
    return dt.date.fromisoformat(partitie).toordinal()


def _stukken(items: list, positie, max_gat: int, max_lengte: int | None = None) -> list[list]:
    """`items` sorted by `positie`, in pieces of neighbours.

    A piece ends where more than `max_gat` positions lie between two items, or where it has
    reached `max_lengte` items.
    """
    stukken: list[list] = []
    vorige = None
    for item in sorted(items, key=positie):
        plek = positie(item)
        if (
            stukken
            and plek - vorige - 1 <= max_gat
            and (max_lengte is None or len(stukken[-1]) < max_lengte)
        ):
            stukken[-1].append(item)
        else:
            stukken.append([item])
        vorige = plek
    return stukken


def referentie_taken() -> list[Taak]:
    """The packaged reference tables; their fingerprint changes only with a new release."""
    return [
        Taak(jobs.referentie_job, asset, None, pakket_vingerafdruk(bestand))
        for asset, bestand in REFERENTIE.items()
    ]


def alle_taken(inbox_dir: Path) -> list[Taak]:
    """Reference data, unreadable inbox entries, then every ingest partition (one listing)."""
    leveringen, onleesbaar = inbox.scan(inbox_dir)
    return [
        *referentie_taken(),
        Taak(
            jobs.inbox_job,
            inbox_bestandsnamen.key,
            None,
            inbox.vingerafdruk_onleesbaar(onleesbaar),
        ),
        *ingest_taken(inbox_dir, leveringen=leveringen),
    ]


def laatste(instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str | None = None):
    """The newest materialization record of an asset (or of one partition), or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=asset,
            asset_partitions=[partition] if partition else None,
        ),
        limit=1,
    ).records
    return records[0] if records else None


def laatste_per_partitie(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict:
    """The newest materialization record of every partition, in two queries."""
    storage_ids = instance.get_latest_storage_id_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION
    )
    if not storage_ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(storage_ids.values())),
        limit=len(storage_ids),
    ).records
    return {r.partition_key: r for r in records}


def _vingerafdruk(record) -> str | None:
    if record is None:
        return None
    value = record.asset_materialization.metadata.get("vingerafdruk")
    return value.value if value is not None else None


def achter(instance: dg.DagsterInstance, taken: list[Taak]) -> list[Taak]:
    """The tasks whose latest materialization did not see the files the inbox holds now."""
    per_asset: dict[str, dict] = {}
    result = []
    for taak in taken:
        if taak.partition is None:
            gezien = _vingerafdruk(laatste(instance, taak.asset))
        else:
            if taak.asset not in per_asset:
                per_asset[taak.asset] = laatste_per_partitie(instance, taak.asset)
            gezien = _vingerafdruk(per_asset[taak.asset].get(taak.partition))
        if gezien != taak.vingerafdruk:
            result.append(taak)
    return result


def dagen_achter(instance: dg.DagsterInstance, dagen: list[str]) -> list[str]:
    """Delivery days whose signal path is older than their uwv_events (or never ran).

    A run that failed or was blocked leaves the day behind, so the next `process` tries again.
    """
    uwv = laatste_per_partitie(instance, uwv_events.key)
    pad = {asset: laatste_per_partitie(instance, asset) for asset in DAG_KLAAR}
    result = []
    for dag in dagen:
        if dag not in uwv:
            continue
        stand = [pad[asset].get(dag) for asset in DAG_KLAAR]
        if any(r is None or r.storage_id < uwv[dag].storage_id for r in stand):
            result.append(dag)
    return result


def reeksen(dagen: list[str], max_dagen: int = MAX_DAGEN_PER_RUN) -> list[list[str]]:
    """The days as runs of consecutive days (a gap starts a new run), oldest first.

    One run over a range of days costs one run's start, not one per day; at most `max_dagen`
    per run, so a long catch-up still shows progress run by run. A day without a UWV file is
    never added to fill a gap: only days that are behind are processed.
    """
    return _stukken(dagen, _positie, 0, max_dagen)


def notificaties_achter(instance: dg.DagsterInstance) -> bool:
    """True when a report was materialized after the last successful notificaties step."""
    rapporten = laatste(instance, signaalrapporten.key)
    if rapporten is None:
        return False
    gemaild = laatste(instance, notificaties.key)
    return gemaild is None or gemaild.storage_id < rapporten.storage_id
