"""The two partition schemes (rules 6.4); never gemeente x dag (1.2M keys)."""

import datetime as dt
import warnings
from collections.abc import Mapping

import dagster as dg

# Dagster exports no public name for the run tags of a partition range (RunRequest and
# execute_in_process take one partition key), so these two come from where Dagster keeps them.
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from lks_pipeline.referentie.data import gemeentecodes

gemeente_partitions = dg.StaticPartitionsDefinition(sorted(gemeentecodes()))

# end_offset=1: a delivery dated today must have a partition today, not tomorrow.
dag_partitions = dg.DailyPartitionsDefinition(
    start_date="2017-01-01", timezone="Europe/Amsterdam", end_offset=1
)


# Every partitioned asset takes a range of partitions in one run (a backfill from the UI, a
# feed's changed partitions, `process` catching up days): starting a run costs more than most
# partitions' work. `backfill_policy` is beta in Dagster 1.13; we use it knowingly, so no warning
# on every load.
warnings.filterwarnings("ignore", "Parameter `backfill_policy`", dg.BetaWarning)
SINGLE_RUN = dg.BackfillPolicy.single_run()


def partition_range_tags(partitions: list[str]) -> dict[str, str]:
    """Run tags for one run over the range from the lowest to the highest of `partitions`.

    Both schemes order their keys as strings sort (gemeentecodes sorted, ISO dates). A range
    holds every partition between its ends, also those not listed: the ingest assets read a
    partition without new files in a few milliseconds and record the fingerprint they saw.
    """
    return {
        ASSET_PARTITION_RANGE_START_TAG: min(partitions),
        ASSET_PARTITION_RANGE_END_TAG: max(partitions),
    }


def run_target(partitions: list[str]) -> tuple[str | None, dict[str, str]]:
    """A run's partition key and tags: one partition by its key, several as their range.

    A single partition stays a plain partition run, which the UI shows by its key.
    """
    if len(partitions) == 1:
        return partitions[0], {}
    return None, partition_range_tags(partitions) if partitions else {}


def run_partitions(tags: Mapping[str, str]) -> str:
    """The partition(s) a run's tags name, as people read them: a key, or `<first> t/m <last>`."""
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        start, end = tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
        return f"{start} t/m {end}"
    return tags.get("dagster/partition", "")


def partition_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The delivery days of this run, oldest first: one, or a range (`SINGLE_RUN`).

    A range is worked through day by day, each day in a transaction of its own, so a day sees
    the `gemeld` signals of the days before it (`dubbel`) as it would in runs of one day.
    """
    return sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
