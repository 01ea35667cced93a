"""The sensor that recomputes stale days (issue "Operations", point 1), on a real instance.

A day is stale when an observation on its `signalen` partition is newer than its last
materialization: what the `signalen` asset records when an earlier day changed its `dubbel`.
"""

import dagster as dg
import pytest

from lks_pipeline.automation import plan
from lks_pipeline.automation.sensors import herberekening_sensor
from lks_pipeline.signalen.assets import VEROUDERD_DOOR, signalen


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def computed(instance, *days):
    for day in days:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=signalen.key, partition=day)
        )


def marked(instance, day, door):
    instance.report_runless_asset_event(
        dg.AssetObservation(asset_key=signalen.key, partition=day, metadata={VEROUDERD_DOOR: door})
    )


def requests(instance):
    result = herberekening_sensor(dg.build_sensor_context(instance=instance))
    return result if isinstance(result, list) else []


def test_stale_days_are_recomputed_oldest_first_in_consecutive_runs(instance):
    computed(instance, "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-25")
    assert plan.stale_days(instance) == []
    assert requests(instance) == []
    for day in ("2026-11-21", "2026-11-22", "2026-11-25"):
        marked(instance, day, "2026-11-20")
    assert plan.stale_days(instance) == ["2026-11-21", "2026-11-22", "2026-11-25"]
    runs = requests(instance)
    assert [(r.job_name, r.partition_key, r.tags.get("dagster/asset_partition_range_start"),
             r.tags.get("dagster/asset_partition_range_end")) for r in runs] == [
        ("signalen_job", None, "2026-11-21", "2026-11-22"),
        ("signalen_job", "2026-11-25", None, None),
    ]  # fmt: skip
    assert len({r.run_key for r in runs}) == 2
    computed(instance, "2026-11-21", "2026-11-22")  # recomputed: no longer stale
    assert plan.stale_days(instance) == ["2026-11-25"]
    assert plan.days_behind(instance, ["2026-11-25"]) == []  # no uwv_events known here
    marked(instance, "2026-11-22", "2026-11-21")  # stale again, by a later recomputation
    assert next(r.run_key for r in requests(instance)) not in {r.run_key for r in runs}


def test_no_recomputation_while_a_days_run_waits_or_runs(instance):
    computed(instance, "2026-11-21")
    marked(instance, "2026-11-21", "2026-11-20")
    instance.add_run(
        dg.DagsterRun(job_name="dag_job", run_id="a" * 36, status=dg.DagsterRunStatus.STARTED)
    )
    result = herberekening_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SkipReason)
    assert "wacht of loopt" in result.skip_message
