"""The two partition schemes (DESIGN 6.4); never gemeente x dag (1.2M keys, DAGSTER-DUCKDB 3)."""

import dagster as dg

from lks_pipeline.reference_data import gemeentecodes

gemeente_partitions = dg.StaticPartitionsDefinition(sorted(gemeentecodes()))

# end_offset=1: a delivery dated today must have a partition today, not tomorrow.
dag_partitions = dg.DailyPartitionsDefinition(
    start_date="2017-01-01", timezone="Europe/Amsterdam", end_offset=1
)
