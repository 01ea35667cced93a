"""Operators hear of every failed run (rules 7): one alert per run to LKS_BEHEER_EMAIL.

Two senders, one rule. `storing_sensor` (a run-failure sensor of the daemon) alerts for runs
the daemon launched; `lks-pipeline process` alerts for its own runs at once, for hosts without
a daemon. Whoever sends first tags the run `lks/storing_gemeld`, and neither sends for a run that
carries it: one mail per failed run, also where both run. A retry is a run of its own and gets
its own mail. When the mail cannot go out, the sensor's tick fails and Dagster evaluates the
same failure again on the next tick; `process` says so and exits non-zero as before.
"""

from pathlib import Path

import dagster as dg

from lks_pipeline.core.partitions import run_partitions
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.storing import Storing, storing_message

GEMELD = "lks/storing_gemeld"


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


@dg.run_failure_sensor(
    name="storing_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
)
def storing_sensor(context: dg.RunFailureSensorContext, mail: Mail, lks: LksSettings):
    """Mail the operators (LKS_BEHEER_EMAIL) once about each failed run of this code location."""
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    if alert(context.instance, run, mail, lks.outbox):
        context.log.info(f"Storing gemeld: run {run.run_id} ({run.job_name})")
