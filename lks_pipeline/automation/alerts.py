"""Operators hear of every failed run and every late day (rules 7), at LKS_BEHEER_EMAIL.

Two senders, one rule. `storing_sensor` (a sensor of the daemon over failed runs) alerts for
runs the daemon launched; `lks-pipeline process` alerts for its own runs at once, for hosts without
a daemon. Whoever sends first tags the run `lks/storing_gemeld`, and neither sends for a run that
carries it: one mail per failed run, also where both run. A retry is a run of its own and gets
its own mail. When the mail cannot go out, the sensor's tick fails and keeps its cursor, so the
next tick tries the same runs again; `process` says so and exits non-zero as before.

A day is late when its `signaalrapporten` partition is not materialized by 07:30
Europe/Amsterdam (the 07:00 schedule plus half an hour). `op_tijd_sensor` evaluates the check
`signaalrapporten_op_tijd` from then on: a failure is recorded once and mailed once per day, and
the check turns green when the reports come. The same check can be run by hand in the UI; the
asset jobs leave it out, because it judges the clock, not a run's output.
"""

import datetime as dt
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from lks_pipeline.core.partitions import run_partitions
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.storing import Storing, TeLaat, storing_message, te_laat_message
from lks_pipeline.rapporten.assets import signaalrapporten

GEMELD = "lks/storing_gemeld"
LOOK_BACK_SECONDS = 24 * 3600
DEADLINE = dt.time(7, 30)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OP_TIJD = "signaalrapporten_op_tijd"


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def op_tijd(instance: dg.DagsterInstance, now: dt.datetime) -> tuple[str, bool] | None:
    """(today, whether its signaalrapporten exist) from 07:30 Europe/Amsterdam; None before."""
    local = now.astimezone(AMSTERDAM)
    if local.time() < DEADLINE:
        return None
    dag = local.date().isoformat()
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=signaalrapporten.key, asset_partitions=[dag]), limit=1
    ).records
    return dag, bool(records)


def _evaluation(dag: str, passed: bool) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=signaalrapporten.key,
        check_name=OP_TIJD,
        passed=passed,
        metadata={"leverdag": dag, "uiterlijk": f"{DEADLINE:%H:%M} Europe/Amsterdam"},
    )


@dg.asset_check(
    asset=signaalrapporten,
    name=OP_TIJD,
    description="Today's signaalrapporten partition is materialized by 07:30 Europe/Amsterdam. "
    "Evaluated by op_tijd_sensor from 07:30; by hand it judges the moment it runs.",
)
def signaalrapporten_op_tijd(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """The check by hand: the same verdict as the sensor's, at the moment it runs."""
    verdict = op_tijd(context.instance, _now())
    if verdict is None:
        return dg.AssetCheckResult(passed=True, metadata={"leverdag": "nog geen 07:30"})
    dag, passed = verdict
    return dg.AssetCheckResult(passed=passed, metadata={"leverdag": dag})


@dg.sensor(
    name="op_tijd_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)
def op_tijd_sensor(context: dg.SensorEvaluationContext, mail: Mail, lks: LksSettings):
    """From 07:30 Europe/Amsterdam: are today's signaalrapporten made? Records the check
    `signaalrapporten_op_tijd` when its outcome changes, and mails the operators once a day
    when they are late. Cursor: the day and its last outcome."""  # noqa: D205, D209
    verdict = op_tijd(context.instance, _now())
    if verdict is None:
        return dg.SkipReason("Nog geen 07:30 (Europe/Amsterdam)")
    dag, passed = verdict
    cursor = json.loads(context.cursor) if context.cursor else {}
    if cursor.get("dag") == dag and (cursor.get("passed") or not passed):
        return dg.SkipReason(f"Leverdag {dag}: niets nieuws")
    if not passed and mail.beheerders:
        msg = te_laat_message(
            TeLaat(dag, f"{DEADLINE:%H:%M}"), mail.mail_from, mail.beheerders, mail.dagster_url
        )
        with mail.transport(lks.outbox) as transport:
            transport.send(msg)
    context.instance.report_runless_asset_event(_evaluation(dag, passed))
    context.update_cursor(json.dumps({"dag": dag, "passed": passed}))
    return None if passed else dg.SkipReason(f"Signaalrapporten van {dag} te laat: gemeld")
