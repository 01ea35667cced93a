"""Dagster's own floor: assets that do nothing, for `dagster asset materialize -f` and in-process.

What remains when they run is Dagster's own cost: process start-up, loading, one run, and the
events it records, one materialization per partition.
"""

import dagster as dg


@dg.asset
def triviaal() -> None:
    """Does nothing; what remains is process start-up, loading and one run."""


def leeg(
    name: str, partitions_def: dg.PartitionsDefinition, deps: tuple[str, ...] = ()
) -> dg.AssetsDefinition:
    """A no-op asset shaped like ours: one run over a range, its own metadata per partition."""

    @dg.asset(
        name=name,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=list(deps),
    )
    def _leeg(context: dg.AssetExecutionContext) -> None:
        for partition in context.partition_keys:
            context.add_asset_metadata({"rijen": 0}, partition_key=partition)

    return _leeg
