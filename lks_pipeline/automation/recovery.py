"""Recover from runs whose process died: mark them failed and free their writer slot.

A run killed with SIGKILL (or by the OOM killer, or a power cut) cannot report its own end: it
stays STARTED in the instance and keeps its `duckdb_writer` slot, and with a pool limit of 1 every
later writing step then waits forever (docs/architecture.md, "Writers"; dagster-io/dagster#32560).
Dagster's run monitoring frees slots only of runs that already ended, and tells a dead run
worker only for launchers that can check their workers (Docker, Kubernetes). A code server
fails the runs of run workers it started and saw die, but nothing fails a run of
`lks-pipeline process`, or of a code server that died with its run worker.

So `process` at its start and `herstel_sensor` every minute look at every run that is still
STARTING, STARTED or CANCELING and that ran on this host as a process: a run of `process` carries
the tags `lks/host` and `lks/pid`; a run launched by the DefaultRunLauncher is found through the
pid that Dagster records in the run's first engine event that has one. When that process no
longer exists (or the pid now belongs to a process that started after it was recorded: a queued
run may start long after it was created), the run is reported failed, with the reason, and its
slots are freed. A live run is never touched, nor one that ended while it was being looked at.
Runs in containers are left to run monitoring, which can ask Docker or Kubernetes.
"""

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import psutil

RUNNING = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class Recovered:
    """One run that was left behind by a dead process, and what was done about it."""

    run_id: str
    job: str
    partition: str | None
    pid: int
    slots: int

    def __str__(self) -> str:
        partition = f" {self.partition}" if self.partition else ""
        return (
            f"run {self.run_id} ({self.job}{partition}): proces {self.pid} bestaat niet meer; "
            f"als mislukt gemarkeerd, {self.slots} writer-slot(s) vrijgegeven"
        )


def run_tags() -> dict[str, str]:
    """Tags that let a later process tell whether this process still runs the run."""
    return {"lks/host": socket.gethostname(), "lks/pid": str(os.getpid())}


def _started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when there is no such process.

    A zombie counts as gone: it has died, only its parent has not collected its exit status yet
    (as a code server does with a killed run worker until its next clean-up).
    """
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None
        return process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def process_alive(pid: int, existed: float) -> bool:
    """Whether `pid` is a live process that already existed at `existed` (not a reused pid)."""
    if pid == os.getpid():
        return True
    started = _started_at(pid)
    return started is not None and started <= existed + 1.5  # boot time is whole seconds


def _pid_from_events(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the run's process as its first engine event with one logged it, and when.

    The process existed at that moment: it is the reference for telling a reused pid, not the
    run's creation, which for a queued run can be long before its process started.
    """
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        if "pid" in metadata:
            return int(metadata["pid"].value), record.event_log_entry.timestamp
    return None


def _slots_of(instance: dg.DagsterInstance, run_id: str) -> int:
    """How many pool slots `run_id` holds, over every pool."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    return sum(
        slot.run_id == run_id
        for key in storage.get_concurrency_keys()
        for slot in storage.get_concurrency_info(key).claimed_slots
    )


def dead_runs(instance: dg.DagsterInstance) -> Iterator[tuple[dg.DagsterRun, int]]:
    """Every run of this host that is still marked running while its process is gone, and pid."""
    host = socket.gethostname()
    local_launcher = isinstance(instance.run_launcher, dg.DefaultRunLauncher)
    for record in instance.get_run_records(dg.RunsFilter(statuses=RUNNING)):
        run = record.dagster_run
        if "lks/host" in run.tags:
            if run.tags["lks/host"] != host:
                continue
            # `process` itself created the run with these tags: it existed at that moment.
            pid, existed = int(run.tags["lks/pid"]), record.create_timestamp.timestamp()
        elif local_launcher:
            logged = _pid_from_events(instance, run.run_id)
            if logged is None:
                continue  # not executing yet; run monitoring's start timeout covers STARTING
            pid, existed = logged
        else:
            continue
        if not process_alive(pid, existed):
            yield run, pid


def recover(instance: dg.DagsterInstance) -> list[Recovered]:
    """Fail every run of this host whose process is gone, and free its slots."""
    host = socket.gethostname()
    recovered = []
    for run, pid in dead_runs(instance):
        # The run may have ended, and its process exited, since the list was read. Once the
        # process is gone nothing writes the run's status any more, so read it again now.
        nu = instance.get_run_by_id(run.run_id)
        if nu is None or nu.status not in RUNNING:
            continue
        instance.report_run_failed(
            run,
            f"Het proces van deze run (pid {pid} op {host}) bestaat niet meer: afgebroken "
            "(kill -9, geheugentekort, herstart). De volgende run doet het werk opnieuw.",
        )
        slots = _slots_of(instance, run.run_id)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(
            Recovered(run.run_id, run.job_name, run.tags.get("dagster/partition"), pid, slots)
        )
    return recovered
