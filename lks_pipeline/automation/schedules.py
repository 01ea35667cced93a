"""The daily schedule (rules 7): 07:00 Europe/Amsterdam, the day's partition of `dag_job`.

It runs even when no UWV file arrived: `uwv_events` then records that the day has no delivery
(its check `uwv_levering_ontvangen` warns), and the signal path and mail step run on what the
warehouse holds, so a verwijsindex or DKD delivery that came after the UWV file is applied to
that day and notifications held back are sent.
"""

import datetime as dt

import dagster as dg

from lks_pipeline.automation.jobs import dag_job
from lks_pipeline.core.partitions import dag_partitions


@dg.schedule(
    cron_schedule="0 7 * * *",
    execution_timezone=dag_partitions.timezone,
    job=dag_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def dagelijks_0700(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 07:00 Europe/Amsterdam: the day's uwv_events, signal path and notificaties,
    with or without a UWV file."""  # noqa: D205, D209
    dag: dt.date = context.scheduled_execution_time.date()
    return dg.RunRequest(
        run_key=f"dagelijks:{dag.isoformat()}",
        partition_key=dag.isoformat(),
        tags={"lks/trigger": "schedule"},
    )
