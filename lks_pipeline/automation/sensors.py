"""Sensors (rules 7): one per feed on its inbox folder, the reference data, and held-back mail.

Ticks decide, runs act: a tick lists its folder (one `scandir`, one `lstat` per entry), hashes
only files it has not seen, and asks for runs; it never opens the warehouse, so it never waits
for or blocks a run's DuckDB lock.

- **Cursor**: the highest ctime seen and the names seen at that ctime. ctime changes when a file
  is written or moved into the folder (`mv` keeps the mtime, not the ctime), so an unchanged
  file is never hashed twice and an 11k-file inbox costs one listing per tick. A tick hashes at
  most `HASH_BUDGET_BYTES`; the rest follows next tick.
- **Runs**: all partitions of a feed that a tick finds behind go in one run over their range
  (starting a run costs more than reading a partition), tagged `lks/alleen_nieuw` so that the
  partitions in between are not read again; a UWV day is a run of its own. The run key is the
  feed and a sha256 over each partition's new files' names and content, so the daemon never
  runs one content twice. A partition whose latest materialization already saw the
  inbox's files (e.g. loaded by `lks-pipeline process`) is not requested. A file touched without
  a change (new mtime, same content) gets one cheap run that only records the new fingerprint;
  otherwise that partition would look unread forever.
- **Bad names**: the sensor that owns the folder (uwv, verwijsindex, and dkd_reintegratie for
  `dkd/`) logs each unreadable entry by file name and requests `inbox_bestandsnamen`, which
  records it in the quarantine.
- **Order**: the UWV sensor's run is the whole day (`dag_job`: uwv_events, signalen, reports,
  deadlines, notificaties). It waits while reference data or another feed's files are not yet
  loaded, or an ingest run is queued or running, so a verwijsindex delivered with the UWV file
  is used; after `MAX_WAIT_SECONDS` it goes ahead and logs which partitions it gave up on.
  A later verwijsindex or DKD delivery does not re-run days already processed (the reports a
  gemeente has do not change behind its back); the 07:00 schedule re-runs that day.
- **Day order**: recomputing a day can change `dubbel` on later days (a late UWV file, a retry,
  a re-run by hand); the `signalen` asset marks them stale and `herberekening_sensor` runs
  their signal path again, oldest first, once no day's run waits or runs.
- **Alerts**: `storing_sensor` (`alerts.py`) mails the operators once about each failed run.
- **Mail**: `notificaties_sensor` requests `notificaties_job` when a report is newer than the
  last successful mail step and nothing that sends mail is running, backing off from 5 minutes
  to an hour while it keeps failing.
"""

import datetime as dt
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import dagster as dg

from lks_pipeline.analyse.assets import lks_analyse
from lks_pipeline.automation import jobs, plan, recovery
from lks_pipeline.automation.alerts import op_tijd_sensor, storing_sensor
from lks_pipeline.core.partitions import run_target
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.ingest import inbox
from lks_pipeline.ingest.assets import ALLEEN_NIEUW, dkd_instellingen, inbox_bestandsnamen
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.rapporten.assets import signaalrapporten

INTERVAL_SECONDS = 30
HASH_BUDGET_BYTES = 512 * 1024 * 1024
MAX_WAIT_SECONDS = 15 * 60
NOT_DONE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
MAIL_JOBS = (jobs.dag_job, jobs.signalen_job, jobs.notificaties_job)
DAY_JOBS = (jobs.uwv_events_job, jobs.dag_job, jobs.signalen_job)
MAIL_BACKOFF = (5 * 60, 60 * 60)  # first retry, longest wait
ANALYSE = lks_analyse.key  # every run refreshes the analysts' copy


def _now() -> float:
    """Wall-clock seconds; one place, so a test can move time forward for the sensors only."""
    return time.time()


@dataclass
class Cursor:
    """What a feed sensor has seen: a ctime high-water mark, never a list of every file."""

    ctime_ns: int = 0
    namen: list[str] = field(default_factory=list)
    onleesbaar: str = ""
    wacht_sinds: float | None = None

    @classmethod
    def load(cls, body: str | None) -> "Cursor":
        return cls(**json.loads(body)) if body else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def is_new(self, lv: Levering) -> bool:
        return lv.ctime_ns > self.ctime_ns or (
            lv.ctime_ns == self.ctime_ns and lv.bestand not in self.namen
        )

    def advance(self, seen: list[Levering]) -> None:
        for lv in seen:
            if lv.ctime_ns > self.ctime_ns:
                self.ctime_ns, self.namen = lv.ctime_ns, [lv.bestand]
            elif lv.ctime_ns == self.ctime_ns and lv.bestand not in self.namen:
                self.namen.append(lv.bestand)


def _to_hash(new_files: list[Levering]) -> list[Levering]:
    """The oldest new files up to the byte budget (at least one), so every tick ends quickly."""
    gekozen, totaal = [], 0
    for lv in sorted(new_files, key=lambda lv: (lv.ctime_ns, lv.bestand)):
        if gekozen and totaal + lv.size > HASH_BUDGET_BYTES:
            break
        gekozen.append(lv)
        totaal += lv.size
    return gekozen


def _run_exists(instance: dg.DagsterInstance, run_key: str) -> bool:
    return bool(instance.get_run_ids(dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1))


def _unfinished_runs(
    instance: dg.DagsterInstance, jobs_waited_for: tuple[jobs.AssetJob, ...]
) -> int:
    return sum(
        len(instance.get_run_ids(dg.RunsFilter(job_name=job.name, statuses=NOT_DONE)))
        for job in jobs_waited_for
    )


def _waiting_for_ingest(instance: dg.DagsterInstance, lks: LksSettings) -> list[str]:
    """Why a day's signal path should not start yet (empty: it may)."""
    reasons = []
    unfinished = _unfinished_runs(instance, plan.INGEST_JOBS)
    if unfinished:
        reasons.append(f"{unfinished} inleesrun(s) wachten of lopen")
    tasks = [*plan.referentie_tasks(), *plan.ingest_tasks(lks.inbox, feeds=plan.FEEDS_BEFORE_DAY)]
    behind = plan.behind(instance, tasks)
    if behind:
        namen = ", ".join(t.name for t in behind[:10]) + (" ..." if len(behind) > 10 else "")
        reasons.append(f"nog niet ingelezen: {namen}")
    return reasons


@dataclass(frozen=True)
class FeedSensor:
    """What one feed's sensor watches, and the runs it asks for."""

    feed: str
    job: jobs.AssetJob
    owner: bool  # the sensor that records its folder's unreadable entries
    asset_selection: list[dg.AssetKey] | None


def _evaluate(
    context: dg.SensorEvaluationContext, lks: LksSettings, spec: FeedSensor
) -> dg.SensorResult:
    """One tick: unreadable entries, then the partitions whose files are new or changed."""
    folder = inbox.FEED_FOLDERS[spec.feed]
    deliveries, unreadable = inbox.scan(lks.inbox, folders=[folder])
    deliveries = [lv for lv in deliveries if lv.feed == spec.feed]
    cursor = Cursor.load(context.cursor)
    requests = _unreadable_requests(context, cursor, folder, unreadable) if spec.owner else []
    new = [lv for lv in deliveries if cursor.is_new(lv)]
    hashed = {lv: lv.sha256() for lv in _to_hash(new)}
    feed_requests = _feed_requests(context, lks, spec, deliveries, hashed)
    if feed_requests and spec.feed == "uwv" and _days_wait(context, lks, cursor):
        # The new UWV files stay unseen, so the next tick looks at them again.
        return dg.SensorResult(run_requests=requests, cursor=cursor.dump())
    requests += feed_requests
    cursor.advance(list(hashed))
    if not requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"Niets nieuws in inbox/{folder} voor {spec.feed}"),
            cursor=cursor.dump(),
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor.dump())


def _unreadable_requests(
    context: dg.SensorEvaluationContext, cursor: Cursor, folder: str, unreadable: list
) -> list[dg.RunRequest]:
    """A run that records the folder's unreadable entries, when they changed since last tick."""
    fingerprint = inbox.fingerprint_unreadable(unreadable)
    requests = []
    if unreadable and fingerprint != cursor.onleesbaar:
        for entry in unreadable:
            context.log.warning(f"Niet gelezen: {folder}/{entry.bestand}: {entry.reden}")
        requests.append(
            dg.RunRequest(
                run_key=f"onleesbaar:{folder}:{fingerprint}",
                job_name=jobs.inbox_job.name,
                asset_selection=[inbox_bestandsnamen.key, ANALYSE],
            )
        )
    cursor.onleesbaar = fingerprint
    return requests


def _feed_requests(
    context: dg.SensorEvaluationContext,
    lks: LksSettings,
    spec: FeedSensor,
    deliveries: list[Levering],
    hashed: dict[Levering, str],
) -> list[dg.RunRequest]:
    """Runs for the partitions with new files that are behind: a day each, else one range."""
    per_partition: dict[str | None, list[Levering]] = defaultdict(list)
    for lv in hashed:
        per_partition[lv.partition].append(lv)
    tasks = {
        t.partition: t
        for t in plan.ingest_tasks(
            lks.inbox,
            feeds=(spec.feed,),
            leveringen=[lv for lv in deliveries if lv.partition in per_partition],
        )
    }
    behind = {t.partition for t in plan.behind(context.instance, list(tasks.values()))}
    content = {
        partition: _content_hash(per_partition[partition], hashed)
        for partition in sorted(behind, key=lambda p: p or "")
    }
    # A day is its own run (its signal path follows); any other feed's partitions share one run.
    groups = (
        [[day] for day in content] if spec.feed == "uwv" else [list(content)] if content else []
    )
    return [
        _request(context.instance, spec, group, content, tasks, per_partition) for group in groups
    ]


def _content_hash(files: list[Levering], hashed: dict[Levering, str]) -> str:
    """A partition's new files by name and content: equal means the same delivery."""
    listing = "".join(f"{lv.bestand}:{hashed[lv]}\n" for lv in files)
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def _request(
    instance: dg.DagsterInstance,
    spec: FeedSensor,
    group: list[str | None],
    content: dict[str | None, str],
    tasks: dict,
    per_partition: dict[str | None, list[Levering]],
) -> dg.RunRequest:
    """One run over `group`, keyed on its content so the daemon never runs it twice."""
    key = ",".join(f"{p or '-'}={content[p]}" for p in group)
    run_key = f"{spec.feed}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    if _run_exists(instance, run_key):  # touched, not changed
        run_key += ":" + ",".join(tasks[p].fingerprint for p in group)
    partition, range_tags = run_target([p for p in group if p is not None])
    return dg.RunRequest(
        run_key=run_key,
        job_name=spec.job.name,
        partition_key=partition,
        asset_selection=spec.asset_selection,
        tags={
            ALLEEN_NIEUW: "ja",
            "lks/bestanden": str(sum(len(per_partition[p]) for p in group)),
            **range_tags,
        },
    )


def _days_wait(context: dg.SensorEvaluationContext, lks: LksSettings, cursor: Cursor) -> bool:
    """Whether the new days wait for ingest, at most `MAX_WAIT_SECONDS` in a row."""
    reasons = _waiting_for_ingest(context.instance, lks)
    now = _now()
    if reasons and (cursor.wacht_sinds is None or now - cursor.wacht_sinds < MAX_WAIT_SECONDS):
        cursor.wacht_sinds = cursor.wacht_sinds or now
        context.log.info("Leverdag(en) wachten: " + "; ".join(reasons))
        return True
    if reasons:
        context.log.warning(
            f"Na {MAX_WAIT_SECONDS // 60} minuten wachten toch verwerkt: " + "; ".join(reasons)
        )
    cursor.wacht_sinds = None
    return False


def _feed_sensor(feed: str, job, *, owner: bool, asset: dg.AssetsDefinition | None = None):
    """The sensor of one feed: `job` over its partitions; `asset` alone when the job has more."""
    folder = inbox.FEED_FOLDERS[feed]
    targets = [job] if job is jobs.inbox_job or not owner else [job, jobs.inbox_job]
    spec = FeedSensor(feed, job, owner, [asset.key, ANALYSE] if asset else None)

    @dg.sensor(
        name=f"{feed}_sensor",
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        jobs=targets,
        description=f"Watches inbox/{folder}/ for {feed} files: requests `{job.name}` for exactly "
        "the partitions whose files are new or changed."
        + (" Records badly named entries in the quarantine." if owner else ""),
    )
    def _sensor(context: dg.SensorEvaluationContext, lks: LksSettings):
        return _evaluate(context, lks, spec)

    return _sensor


uwv_sensor = _feed_sensor("uwv", jobs.dag_job, owner=True)
verwijsindex_sensor = _feed_sensor("verwijsindex", jobs.verwijsindex_job, owner=True)
dkd_reintegratie_sensor = _feed_sensor("dkd_reintegratie", jobs.dkd_reintegratie_job, owner=True)
dkd_instellingen_sensor = _feed_sensor(
    "dkd_instellingen", jobs.inbox_job, owner=False, asset=dkd_instellingen
)


@dg.sensor(
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[jobs.signalen_job],
)
def herberekening_sensor(context: dg.SensorEvaluationContext):
    """Recomputes, oldest first, the days that an earlier day's recomputation made stale (their
    `dubbel`), once no day's run is waiting or running: so a late UWV file, a retry or a re-run
    ends as if every day had run in date order."""  # noqa: D205, D209
    marks = plan.stale_marks(context.instance)
    if not marks:
        return dg.SkipReason("Geen dagen om opnieuw te berekenen")
    if _unfinished_runs(context.instance, DAY_JOBS):
        return dg.SkipReason("Een run van een leverdag wacht of loopt nog")
    requests = []
    for stretch in plan.consecutive_days(sorted(marks)):
        partition, tags = run_target(stretch)
        mark = max(marks[day] for day in stretch)
        requests.append(
            dg.RunRequest(
                run_key=f"herberekening:{stretch[0]}:{stretch[-1]}:{mark}",
                job_name=jobs.signalen_job.name,
                partition_key=partition,
                tags={**tags, "lks/trigger": "herberekening"},
            )
        )
    return requests


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[jobs.referentie_job],
)
def referentie_sensor(context: dg.SensorEvaluationContext):
    """Loads the packaged gemeenten and doelgroepregister codes on the first start and after an
    upgrade that changed them."""  # noqa: D205, D209
    tasks = [t for t in plan.referentie_tasks() if plan.behind(context.instance, [t])]
    if not tasks:
        return dg.SkipReason("Referentiedata is actueel")
    key = ":".join(f"{t.asset}={t.fingerprint}" for t in tasks)
    return dg.RunRequest(
        run_key=f"referentie:{key}",
        job_name=jobs.referentie_job.name,
        asset_selection=[*(t.asset for t in tasks), ANALYSE],
    )


@dataclass
class MailCursor:
    """The reports the retries are for, how many were made, and when the next may go."""

    rapport: int = 0
    pogingen: int = 0
    volgende: float = 0.0


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[jobs.notificaties_job],
)
def notificaties_sensor(context: dg.SensorEvaluationContext):
    """Sends mail that an SMTP outage held back: requests `notificaties_job` when a report is
    newer than the last successful notificaties step; after 5 minutes, then backing off to an
    hour while it keeps failing."""  # noqa: D205, D209
    cursor = MailCursor(**json.loads(context.cursor)) if context.cursor else MailCursor()
    if not plan.notificaties_behind(context.instance):
        return dg.SensorResult(
            skip_reason=dg.SkipReason("Alle notificaties zijn verzonden"),
            cursor=json.dumps(asdict(MailCursor())),
        )
    if _unfinished_runs(context.instance, MAIL_JOBS):
        return dg.SkipReason("Een run die mail verstuurt loopt of wacht al")
    rapport = plan.latest(context.instance, signaalrapporten.key).storage_id
    if rapport != cursor.rapport:
        cursor = MailCursor(rapport=rapport, volgende=_now() + MAIL_BACKOFF[0])
        return dg.SensorResult(
            skip_reason=dg.SkipReason("Nieuwe rapporten: eerste herhaling over 5 minuten"),
            cursor=json.dumps(asdict(cursor)),
        )
    if _now() < cursor.volgende:
        volgende = dt.datetime.fromtimestamp(cursor.volgende, dt.UTC)
        return dg.SkipReason(f"Volgende poging na {volgende:%H:%M} UTC")
    cursor.pogingen += 1
    wacht = min(MAIL_BACKOFF[0] * 2**cursor.pogingen, MAIL_BACKOFF[1])
    cursor.volgende = _now() + wacht
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(job_name=jobs.notificaties_job.name, tags={"lks/trigger": "herhaling"})
        ],
        cursor=json.dumps(asdict(cursor)),
    )


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[jobs.analyse_job],
)
def herstel_sensor(context: dg.SensorEvaluationContext):
    """Fails runs whose process died (kill -9, out of memory, a restart) and frees their writer
    slot, so one crash never holds up every later run (`herstel.py`); then refreshes the
    analysts' copy, which the dead run may have changed the warehouse under."""  # noqa: D205, D209
    recovered = recovery.recover(context.instance)
    for run in recovered:
        context.log.warning(f"Hersteld: {run}")
    if not recovered:
        return dg.SkipReason("Geen runs van een afgebroken proces")
    return dg.RunRequest(
        run_key=f"herstel:{recovered[0].run_id}",
        job_name=jobs.analyse_job.name,
        tags={"lks/trigger": "herstel"},
    )


ALL_SENSORS = [
    herstel_sensor,
    uwv_sensor,
    verwijsindex_sensor,
    dkd_reintegratie_sensor,
    dkd_instellingen_sensor,
    referentie_sensor,
    herberekening_sensor,
    notificaties_sensor,
    storing_sensor,
    op_tijd_sensor,
]
