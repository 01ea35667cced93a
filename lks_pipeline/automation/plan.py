"""What is behind: the decisions `lks-pipeline process` and the sensors share (rules 7).

Everything here reads the inbox listing and the Dagster instance, never the warehouse, so a
sensor tick can call it while a run holds the DuckDB file.

- An ingest partition is up to date when its latest materialization recorded the inbox
  fingerprint (name, size, mtime of its files) that the inbox shows now.
- A delivery day is behind when its signal path is older than its `uwv_events`, or when it is
  stale: recomputing an earlier day changed whether one of its kenmerken was gemeld before it
  (an observation on its `signalen` partition newer than its materialization).
- `notificaties` is behind when a report was materialized after its last success.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lks_pipeline.aanleverfouten.assets import dkd_aanleverfouten
from lks_pipeline.automation import jobs
from lks_pipeline.core.partitions import gemeente_partitions, partition_range_tags
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
from lks_pipeline.referentie.data import fingerprint as package_fingerprint
from lks_pipeline.signalen.assets import poortwachter_termijnen, signalen

# A day is done when these daily tables were rewritten after its uwv_events: the decision
# `process` and the sensors have always made (dkd_webservice runs in the same job; notificaties
# has no partitions).
DAY_DONE = tuple(
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
FEEDS_BEFORE_DAY = ("dkd_instellingen", "verwijsindex", "dkd_reintegratie")  # a day waits for these
MAX_DAYS_PER_RUN = 31
# A partition without files in a run's range costs ~17 ms (planned and recorded on the SQLite
# instance); a run of its own ~0.45 s to start (measured on the demo). Past this gap, split.
MAX_GAP = 25
GEMEENTE_POSITION = {code: i for i, code in enumerate(gemeente_partitions.get_partition_keys())}


@dataclass
class Task:
    """One (asset, partition) and the fingerprint of the files it reads."""

    job: jobs.AssetJob
    asset: dg.AssetKey
    partition: str | None
    fingerprint: str

    @property
    def name(self) -> str:
        return self.asset.to_user_string() + (f" {self.partition}" if self.partition else "")


def ingest_tasks(
    inbox_dir: Path,
    feeds: tuple[str, ...] = tuple(INGEST),
    leveringen: list[inbox.Levering] | None = None,
) -> list[Task]:
    """Every ingest (asset, partition) the inbox touches, in dependency order.

    `leveringen`: a listing the caller already made (a sensor tick lists its folder once).
    """
    if leveringen is None:
        leveringen, _ = inbox.scan(inbox_dir)
    per_partition: dict[tuple[str, str | None], list] = {}
    for lv in sorted(leveringen, key=lambda lv: (list(INGEST).index(lv.feed), lv.partition or "")):
        if lv.feed in feeds:
            per_partition.setdefault((lv.feed, lv.partition), []).append(lv)
    return [
        Task(*INGEST[feed], partition, inbox.fingerprint(files))
        for (feed, partition), files in per_partition.items()
    ]


@dataclass
class Bundle:
    """One run: the tasks of one job, its partitioned asset over one range of partitions."""

    job: jobs.AssetJob
    tasks: list[Task]

    @property
    def assets(self) -> list[dg.AssetKey]:
        return list(dict.fromkeys(t.asset for t in self.tasks))

    @property
    def partitions(self) -> list[str]:
        return [t.partition for t in self.tasks if t.partition is not None]

    @property
    def tags(self) -> dict[str, str]:
        return partition_range_tags(self.partitions) if self.partitions else {}

    @property
    def name(self) -> str:
        p = sorted(self.partitions)
        if len(p) > 1:
            return f"{self.assets[0].to_user_string()} {p[0]}..{p[-1]} ({len(p)} partitions)"
        return ", ".join(t.name for t in self.tasks)


def bundle(tasks: list[Task], max_gap: int = MAX_GAP) -> list[Bundle]:
    """The tasks as runs per job, in the order the jobs first appear (dependency order).

    Starting a run costs more than reading most partitions (`assets/feeds.py`), so a job's
    partitions go in one run over their range. But every partition in a range is planned and
    recorded, also one without files, so a gap of more than `max_gap` partitions between two
    that have new files starts a new run: a demo or a pilot with a few gemeenten then records
    the gemeenten that delivered, not the hundreds between them.
    """
    per_job: dict[str, list[Task]] = {}
    for task in tasks:
        per_job.setdefault(task.job.name, []).append(task)
    result = []
    for part in per_job.values():
        job = part[0].job
        if any(t.partition is None for t in part):
            result.append(Bundle(job, part))
            continue
        pieces = _pieces(part, lambda t: _position(t.partition), max_gap)
        result += [Bundle(job, piece) for piece in pieces]
    return result


def _position(partition: str) -> int:
    """Where a partition key lies in its scheme: a gemeente's place, or a day's ordinal."""
    if partition in GEMEENTE_POSITION:
        return GEMEENTE_POSITION[partition]
    return dt.date.fromisoformat(partition).toordinal()


def _pieces(items: list, position, max_gap: int, max_length: int | None = None) -> list[list]:
    """`items` sorted by `position`, in pieces of neighbours.

    A piece ends where more than `max_gap` positions lie between two items, or where it has
    reached `max_length` items.
    """
    pieces: list[list] = []
    previous_place = None
    for item in sorted(items, key=position):
        place = position(item)
        if (
            pieces
            and place - previous_place - 1 <= max_gap
            and (max_length is None or len(pieces[-1]) < max_length)
        ):
            pieces[-1].append(item)
        else:
            pieces.append([item])
        previous_place = place
    return pieces


def referentie_tasks() -> list[Task]:
    """The packaged reference tables; their fingerprint changes only with a new release."""
    return [
        Task(jobs.referentie_job, asset, None, package_fingerprint(bestand))
        for asset, bestand in REFERENTIE.items()
    ]


def all_tasks(inbox_dir: Path) -> list[Task]:
    """Reference data, unreadable inbox entries, then every ingest partition (one listing)."""
    leveringen, onleesbaar = inbox.scan(inbox_dir)
    return [
        *referentie_tasks(),
        Task(
            jobs.inbox_job,
            inbox_bestandsnamen.key,
            None,
            inbox.fingerprint_unreadable(onleesbaar),
        ),
        *ingest_tasks(inbox_dir, leveringen=leveringen),
    ]


def latest(instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str | None = None):
    """The newest materialization record of an asset (or of one partition), or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=asset,
            asset_partitions=[partition] if partition else None,
        ),
        limit=1,
    ).records
    return records[0] if records else None


def latest_per_partition(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict:
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


def _fingerprint(record) -> str | None:
    if record is None:
        return None
    value = record.asset_materialization.metadata.get("vingerafdruk")
    return value.value if value is not None else None


def ingest_todo(instance: dg.DagsterInstance, tasks: list[Task], everything: bool) -> list[Task]:
    """The ingest tasks `process` runs: all of them with `--all`, else those behind."""
    return tasks if everything else behind(instance, tasks)


def delivery_days(tasks: list[Task]) -> list[str]:
    """The delivery days the inbox holds a UWV file for, oldest first."""
    return sorted(t.partition for t in tasks if t.asset == uwv_events.key)


def days_todo(instance: dg.DagsterInstance, dagen: list[str], everything: bool) -> list[str]:
    """The days whose signal path `process` runs: all of them with `--all`, else those behind."""
    return dagen if everything else days_behind(instance, dagen)


def behind(instance: dg.DagsterInstance, tasks: list[Task]) -> list[Task]:
    """The tasks whose latest materialization did not see the files the inbox holds now."""
    per_asset: dict[str, dict] = {}
    result = []
    for task in tasks:
        if task.partition is None:
            seen = _fingerprint(latest(instance, task.asset))
        else:
            if task.asset not in per_asset:
                per_asset[task.asset] = latest_per_partition(instance, task.asset)
            seen = _fingerprint(per_asset[task.asset].get(task.partition))
        if seen != task.fingerprint:
            result.append(task)
    return result


def days_behind(instance: dg.DagsterInstance, dagen: list[str]) -> list[str]:
    """Delivery days whose signal path is older than their uwv_events (or never ran), or stale.

    A run that failed or was blocked leaves the day behind, so the next `process` tries again.
    """
    uwv = latest_per_partition(instance, uwv_events.key)
    pad = {asset: latest_per_partition(instance, asset) for asset in DAY_DONE}
    stale = set(stale_days(instance))
    result = []
    for dag in dagen:
        if dag not in uwv:
            continue
        stand = [pad[asset].get(dag) for asset in DAY_DONE]
        if dag in stale or any(r is None or r.storage_id < uwv[dag].storage_id for r in stand):
            result.append(dag)
    return result


def stale_days(instance: dg.DagsterInstance) -> list[str]:
    """Days whose `dubbel` an earlier day's recomputation may have changed, oldest first."""
    return sorted(stale_marks(instance))


def stale_marks(instance: dg.DagsterInstance) -> dict[str, int]:
    """Each stale day with the storage id of the observation that marked it.

    The `signalen` asset marks a day with an observation; a materialization after it clears it.
    Two queries over the instance's per-partition indexes, whatever the history's length.
    """
    marked = instance.get_latest_storage_id_by_partition(
        signalen.key, dg.DagsterEventType.ASSET_OBSERVATION
    )
    computed = instance.get_latest_storage_id_by_partition(
        signalen.key, dg.DagsterEventType.ASSET_MATERIALIZATION
    )
    return {day: mark for day, mark in marked.items() if mark > computed.get(day, -1)}


def consecutive_days(dagen: list[str], max_days: int = MAX_DAYS_PER_RUN) -> list[list[str]]:
    """The days as runs of consecutive days (a gap starts a new run), oldest first.

    One run over a range of days costs one run's start, not one per day; at most `max_days`
    per run, so a long catch-up still shows progress run by run. A day without a UWV file is
    never added to fill a gap: only days that are behind are processed.
    """
    return _pieces(dagen, _position, 0, max_days)


def days_name(days: list[str]) -> str:
    """A run's days as people read them: the day, or `<first>..<last> (<n> days)`."""
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"


def notificaties_behind(instance: dg.DagsterInstance) -> bool:
    """True when a report was materialized after the last successful notificaties step."""
    rapporten = latest(instance, signaalrapporten.key)
    if rapporten is None:
        return False
    gemaild = latest(instance, notificaties.key)
    return gemaild is None or gemaild.storage_id < rapporten.storage_id
