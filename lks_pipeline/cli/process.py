"""`lks-pipeline process` (rules 7): everything new in the inbox, without the daemon.

Through the same Definitions and the `DAGSTER_HOME` instance as the UI (so its runs show
there), in this order:

1. runs that a killed process left behind are failed and their writer slot freed;
2. the reference and ingest assets of every partition whose inbox files changed since its last
   materialization (the files' fingerprint: name, size, mtime, kept in that materialization's
   metadata), one run per job: a feed's partitions go in one run over their range, tagged so
   that a partition already holding its newest file is not read again (`--all` re-reads every
   partition and re-runs every day);
3. in date order, the signal path (`signalen_job`) of every delivery day whose signal path is
   older than its uwv_events, consecutive days in one run;
4. `notificaties_job` when an earlier run left mail unsent;
5. one refresh of the analysts' copy (`analyse_job`) when anything ran.

The decisions are `automation/plan.py`'s, the same the sensors make; `--dry-run` prints them
and stops. A second run with nothing new runs nothing. Progress, warnings and errors go to
standard error (`terminal.py`); the summary, or with `--json` one JSON object, to standard
output, counted in the warehouse (`summary.py`). The exit status (`cli/__init__.py`): 1 when a
run failed in any step but `notificaties`, else 3 when notifications wait to be sent (SMTP
down: the reports are written), else 0.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lks_pipeline.automation import alerts, jobs, plan, recovery
from lks_pipeline.automation.instance import ensure_dagster_home
from lks_pipeline.cli import DONE, FAILED, MAIL_HELD_BACK, summary
from lks_pipeline.cli.summary import ProcessResult
from lks_pipeline.cli.terminal import Terminal
from lks_pipeline.core.partitions import run_target
from lks_pipeline.core.resources import Warehouse
from lks_pipeline.core.settings import data_root, warehouse_path, warehouse_wait_seconds
from lks_pipeline.core.warehouse import utc_now
from lks_pipeline.ingest.assets import ALLEEN_NIEUW
from lks_pipeline.notificaties.assets import notificaties
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.transport import Undeliverable


def run_config(level: str = "WARNING") -> dict:
    """Dagster's console lines of a run from `level` on (INFO with --verbose)."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


QUIET_RUN_CONFIG = run_config()
# Dagster's own row counts of a materialization (not labels of ours).
ROW_COUNTS = ("dagster/partition_row_count", "dagster/row_count")
# Rounds of recomputing days that an earlier day made stale: a chain of `dubbel` kenmerken across
# more days than this is finished by the next `process` or the sensor.
MAX_ROUNDS = 10
# A failed run that failed in this step alone held mail back: the reports are written.
MAIL_STEP = notificaties.key.to_python_identifier()


@dataclass
class Session:
    """One `process`: where it runs, and what it has done so far."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    warehouse: Warehouse
    result: ProcessResult
    everything: bool
    mail: Mail
    outbox: Path
    terminal: Terminal

    def execute(self, job, label: str, *, partition=None, assets=None, tags=None):
        """Execute one run, showing its progress; its result, or None after saying it failed.

        A run that failed only in its mail step still returns its result: its days are done
        and counted, only their mail waits. A failure names the run id and the failing steps
        only: an error text could quote input.
        """
        with self.terminal.work(label):
            outcome = self.defs.resolve_job_def(job.name).execute_in_process(
                instance=self.instance,
                partition_key=partition,
                asset_selection=assets,
                run_config=run_config("INFO" if self.terminal.verbose else "WARNING"),
                tags={"lks/command": "process", **recovery.run_tags(), **(tags or {})},
                raise_on_error=False,
            )
        if not outcome.success:
            self.result.runs_mislukt += 1
            steps = sorted({e.step_key for e in outcome.get_step_failure_events()})
            self.terminal.warn(
                f"{label}: FAILED in {', '.join(steps)} (run {outcome.run_id}; see the UI)"
            )
            self._alert(outcome.run_id)
            if steps == [MAIL_STEP]:
                return outcome
            self.result.steps_failed = True
            return None
        self.result.runs_geslaagd += 1
        return outcome

    def _alert(self, run_id: str) -> None:
        """Tell the operators (LKS_BEHEER_EMAIL); a mail that cannot go out is said, not fatal."""
        try:
            if alerts.alert(
                self.instance, self.instance.get_run_by_id(run_id), self.mail, self.outbox
            ):
                self.terminal.warn(f"  alert sent to {', '.join(self.mail.beheerders)}")
        except Undeliverable as error:
            self.terminal.warn(f"  alert NOT sent: {error}")


def run(*, everything: bool, dry_run: bool, as_json: bool, quiet: bool, verbose: bool) -> int:
    """Ingest what is new, then the signal path of each delivery day that is behind."""
    if dry_run:
        from lks_pipeline.cli.preview import preview

        return preview(everything=everything, as_json=as_json)
    started = time.monotonic()
    ensure_dagster_home()
    from lks_pipeline.definitions import build_defs, resources_from_env

    resources = resources_from_env()
    session = Session(
        build_defs(resources),
        dg.DagsterInstance.get(),
        Warehouse(database=str(warehouse_path()), wacht_seconden=warehouse_wait_seconds()),
        ProcessResult(),
        everything=everything,
        mail=resources["mail"].process_config_and_initialize(),  # EnvVars resolved
        outbox=data_root() / "outbox",
        terminal=Terminal(quiet=quiet, verbose=verbose),
    )
    recovered = recovery.recover(session.instance)
    for dead in recovered:
        session.terminal.warn(f"Recovered: {dead}")
    tasks = ingest(session)
    behind = signal_path(session, tasks)
    held_back_mail(session, behind)
    if session.result.runs_geslaagd + session.result.runs_mislukt or recovered:
        # One refresh of the analysts' copy for everything this process (or a killed one) changed.
        session.execute(jobs.analyse_job, "analysts' copy")
    with session.warehouse.get_connection() as conn:
        session.result.notificaties_wachtend = summary.waiting(conn)
    session.result.duur_s = round(time.monotonic() - started, 1)
    if as_json:
        print(json.dumps(session.result.as_json()))
    else:
        print_summary(session.result)
    return exit_status(session.result)


def exit_status(result: ProcessResult) -> int:
    """1 when a step failed; else 3 when mail waits (its step failed, or SMTP still down)."""
    if result.steps_failed:
        return FAILED
    return MAIL_HELD_BACK if result.notificaties_wachtend else DONE


def ingest(session: Session) -> list[plan.Task]:
    """Reference data and every feed partition whose files changed, one run per range."""
    inbox = data_root() / "inbox"
    tasks = plan.all_tasks(inbox)
    todo = plan.ingest_todo(session.instance, tasks, session.everything)
    session.terminal.info(f"Inbox {inbox}: {len(tasks)} partitions, {len(todo)} with new files")
    runs = plan.bundle(todo)
    only_new = {} if session.everything else {ALLEEN_NIEUW: "ja"}
    for i, bundle in enumerate(runs, 1):
        label = f"[{i}/{len(runs)}] {bundle.name}"
        since = utc_now()
        tags = {**bundle.tags, **only_new}
        outcome = session.execute(bundle.job, label, assets=bundle.assets, tags=tags)
        if outcome is None:
            continue
        with session.warehouse.get_connection() as conn:
            files = summary.files_since(conn, since)
        session.result.add_files(files)
        session.terminal.info(
            f"{label}: {_rows(outcome)} rows, {files.regels_in_quarantaine} in quarantaine, "
            f"{files.afgewezen} file(s) afgewezen"
        )
    return tasks


def _rows(outcome: dg.ExecuteInProcessResult) -> int:
    """Rows the run's materializations loaded, by Dagster's own row-count metadata."""
    return sum(
        event.materialization.metadata[key].value
        for event in outcome.get_asset_materialization_events()
        for key in ROW_COUNTS
        if key in event.materialization.metadata
    )


def signal_path(session: Session, tasks: list[plan.Task]) -> list[str]:
    """The signal path of every day that is behind, then of the days that made stale, in order.

    Recomputing a day can make later days stale (`dubbel`); they are recomputed in a next round,
    oldest first, until none is left, so any processing order ends as one run in date order.
    A round with a failed run ends it: the next `process` (or the sensor) picks up from there.
    """
    days = plan.delivery_days(tasks)
    behind = plan.days_todo(session.instance, days, session.everything)
    todo, processed = behind, []
    for _ in range(MAX_ROUNDS):
        failed_before = session.result.runs_mislukt
        _run_days(session, todo, len(days))
        processed += todo
        todo = [d for d in plan.stale_days(session.instance) if d in days]
        if not todo or session.result.runs_mislukt > failed_before:
            break
        session.terminal.info(
            f"Signal path: {len(todo)} later day(s) again, because an earlier day changed"
        )
    return processed


def _run_days(session: Session, behind: list[str], total: int) -> None:
    series = plan.consecutive_days(behind)
    session.terminal.info(
        f"Signal path: {total} leverdagen, {len(behind)} to process in {len(series)} run(s)"
    )
    for i, stretch in enumerate(series, 1):
        label = f"[{i}/{len(series)}] signalen {plan.days_name(stretch)}"
        partition, tags = run_target(stretch)
        since = utc_now()
        assets = [asset.key for asset in jobs.SIGNAALPAD]
        outcome = session.execute(
            jobs.signalen_job, label, partition=partition, assets=assets, tags=tags
        )
        if outcome is not None:
            _report_days(session, label, stretch, since)


def _report_days(session: Session, label: str, stretch: list[str], since) -> None:
    """Show and add up what a signal-path run did, day by day."""
    with session.warehouse.get_connection() as conn:
        sent = summary.sent_since(conn, since)
        counts = [summary.day(conn, day, since) for day in stretch]
    session.result.notificaties_verzonden += sent
    session.terminal.info(f"{label}: {sent} notificaties sent")
    for day, c in zip(stretch, counts, strict=True):
        session.result.add_day(day, c)
        session.terminal.info(
            f"  {day}: {c.events} events, {c.gemeld} gemeld, {c.niet_routeerbaar} niet "
            f"routeerbaar; {c.rapporten} rapporten ({c.rapporten_geschreven} written); "
            f"{c.aanleverfouten} aanleverfouten at {c.gemeenten_met_fouten} gemeenten"
        )


def held_back_mail(session: Session, behind: list[str]) -> None:
    """Mail an earlier process could not send (SMTP down); a day's run above sends it too."""
    if behind or not plan.notificaties_behind(session.instance):
        return
    label = "notificaties"
    since = utc_now()
    if session.execute(jobs.notificaties_job, label, assets=[notificaties.key]) is not None:
        with session.warehouse.get_connection() as conn:
            sent = summary.sent_since(conn, since)
        session.result.notificaties_verzonden += sent
        session.terminal.info(f"{label}: {sent} sent")


def print_summary(result: ProcessResult) -> None:
    """The closing lines on standard output: the counts, and where the results are."""
    database = warehouse_path()
    print(result.text())
    print(f"Reports: {data_root() / 'reports'}/GMxxxx/")
    print(f"Warehouse: {database} (schema main); runs and checks in the UI: lks-pipeline dev")
    print(f"For analysts: {database.with_name('lks_analyse.duckdb')} (read-only copy)")
