"""`lks-pipeline process --dry-run`: what `process` would run now, changing nothing.

It makes `process`'s own decisions (`automation/plan.py`) from the inbox listing and the
instance, and reads nothing else: no warehouse byte, no report, no mail, no run. An instance
that does not exist yet is not created: with no history everything is behind, so an empty
in-memory instance gives the same answer. The days that would run are those behind now plus
those whose UWV file is about to be (re)read, since that run makes them behind.
"""

import json
from pathlib import Path

import dagster as dg

from lks_pipeline.automation import jobs, plan, recovery
from lks_pipeline.automation.instance import dagster_home
from lks_pipeline.cli import DONE
from lks_pipeline.core.settings import data_root
from lks_pipeline.notificaties.assets import notificaties


def preview(*, everything: bool, as_json: bool) -> int:
    """Print the runs `process` would start, on standard output."""
    inbox = data_root() / "inbox"
    with _instance(dagster_home()) as instance:
        dead = [run.run_id for run, _ in recovery.dead_runs(instance)]
        tasks = plan.all_tasks(inbox)
        todo = plan.ingest_todo(instance, tasks, everything)
        reread = plan.delivery_days(todo)
        behind = plan.days_todo(instance, plan.delivery_days(tasks), everything)
        behind = sorted(set(behind) | set(reread))
        mail = not behind and plan.notificaties_behind(instance)
    runs = [
        {"job": b.job.name, "assets": [a.to_user_string() for a in b.assets],
         "partitions": b.partitions, "name": b.name}
        for b in plan.bundle(todo)
    ] + [
        {"job": jobs.signalen_job.name, "assets": [], "partitions": stretch,
         "name": f"signalen {plan.days_name(stretch)}"}
        for stretch in plan.consecutive_days(behind)
    ] + ([{"job": jobs.notificaties_job.name, "assets": [notificaties.key.to_user_string()],
           "partitions": [], "name": "notificaties"}] if mail else [])  # fmt: skip
    if as_json:
        print(json.dumps({"herstel": dead, "runs": runs, "leverdagen": behind}))
        return DONE
    print(f"Inbox {inbox}: {len(tasks)} partitions, {len(todo)} with new files")
    for run_id in dead:
        print(f"would mark failed: run {run_id} (its process is gone)")
    for i, run in enumerate(runs, 1):
        print(f"would run [{i}/{len(runs)}] {run['name']}")
    if runs:
        print("would run: the analysts' copy")
    print(f"Nothing changed (--dry-run): {len(runs)} run(s), {len(behind)} leverdag(en).")
    return DONE


def _instance(home: Path) -> dg.DagsterInstance:
    """The instance `process` would use, or an empty one when it has none yet."""
    if (home / "dagster.yaml").is_file():
        return dg.DagsterInstance.from_config(str(home))
    return dg.DagsterInstance.ephemeral()
