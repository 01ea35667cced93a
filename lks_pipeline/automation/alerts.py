"""Operators hear of every failed run (rules 7): one alert per run to LKS_BEHEER_EMAIL.

Two senders, one rule. `storing_sensor` (a sensor of the daemon over failed runs) alerts for
runs the daemon launched; `lks-pipeline process` alerts for its own runs at once, for hosts without
a daemon. Whoever sends first tags the run `lks/storing_gemeld`, and neither sends for a run that
carries it: one mail per failed run, also where both run. A retry is a run of its own and gets
its own mail. When the mail cannot go out, the sensor's tick fails and keeps its cursor, so the
next tick tries the same runs again; `process` says so and exits non-zero as before.
"""

import datetime as dt
import time
from pathlib import Path

import dagster as dg

from lks_pipeline.core.partitions import run_partitions
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.storing import Storing, storing_message

GEMELD = "lks/storing_gemeld"
LOOK_BACK_SECONDS = 24 * 3600


def storing(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Storing:
    """What failed in `run`, from its event log: steps and error classes, never error texts."""
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    steps = tuple(sorted({f.dagster_event.step_key for f in failures}))
    classes = {
        f.dagster_event.step_failure_data.error.cls_name
        for f in failures
        if f.dagster_event.step_failure_data.error
    }
    if not classes:
        for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
            error = getattr(event.dagster_event.event_specific_data, "error", None)
            classes.add(error.cls_name if error else "RunFailure")
    return Storing(
        run.run_id, run.job_name, run_partitions(run.tags), steps, tuple(sorted(classes))
    )


def alert(instance: dg.DagsterInstance, run: dg.DagsterRun, mail: Mail, outbox: Path) -> bool:
    """Send the alert for a failed run once; False when no alert was due or none is set up."""
    if not mail.beheerders or run.tags.get(GEMELD):
        return False
    msg = storing_message(storing(instance, run), mail.mail_from, mail.beheerders, mail.dagster_url)
    with mail.transport(outbox) as transport:
        transport.send(msg)
    instance.add_run_tags(run.run_id, {GEMELD: "ja"})
    return True


@dg.sensor(
    name="storing_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
)
def storing_sensor(context: dg.SensorEvaluationContext, mail: Mail, lks: LksSettings):
    """Mail the operators (LKS_BEHEER_EMAIL) once about each failed run.

    It reads failed runs by when they ended, not the event stream from its own first tick as
    Dagster's run-failure sensors do, which miss a run that fails before that tick (a daemon
    just started). Cursor: the end of the newest failed run seen; a first tick looks back a day.
    """
    since = float(context.cursor) if context.cursor else time.time() - LOOK_BACK_SECONDS
    records = context.instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.FAILURE],
            # A second of overlap, so runs that end in the same instant are never skipped;
            # the run tag keeps those from a second alert.
            updated_after=dt.datetime.fromtimestamp(since - 1, dt.UTC),
        ),
        order_by="update_timestamp",
        ascending=True,
    )
    gemeld = []
    for record in records:
        if alert(context.instance, record.dagster_run, mail, lks.outbox):
            gemeld.append(record.dagster_run.run_id)
        since = max(since, record.update_timestamp.timestamp())
    context.update_cursor(str(since))
    if not gemeld:
        return dg.SkipReason("Geen nieuwe mislukte runs om te melden")
    context.log.info(f"Storing gemeld: {len(gemeld)} run(s): {', '.join(gemeld)}")
    return None
