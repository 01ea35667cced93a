"""Measurements that need a process of their own, for a clean peak RSS: prints one JSON line.

`python -m benchmarks.kind dkd <data_root> <database> <gemeentecode>` materializes one
`dkd_reintegratie` partition through Dagster; `python -m benchmarks.kind iterparse <xml>` is the
floor: a bare lxml iterparse loop that only counts elements (clearing each, as any streaming
reader of a file this size must). Seconds cover the work, not the imports; the peak RSS covers
the whole process, imports included, as an operator would see it.
"""

import json
import resource
import sys
import time
from pathlib import Path


def _piek_mb() -> float:
    """VmHWM of this process. Not ru_maxrss: Linux carries that over from the parent at fork."""
    for regel in Path("/proc/self/status").read_text().splitlines():
        if regel.startswith("VmHWM:"):
            return int(regel.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dkd(root: str, database: str, gemeentecode: str) -> dict:
    """Ours: one dkd_reintegratie partition on a fresh warehouse, through Dagster."""
    import dagster as dg

    from lks_pipeline.core.resources import LksSettings, Warehouse
    from lks_pipeline.ingest.assets import dkd_reintegratie

    resources = {"lks": LksSettings(data_dir=root), "duckdb": Warehouse(database=database)}
    with dg.DagsterInstance.ephemeral() as instance:
        start = time.perf_counter()
        result = dg.materialize(
            [dkd_reintegratie],
            resources=resources,
            partition_key=gemeentecode,
            instance=instance,
            raise_on_error=False,
        )
        seconden = time.perf_counter() - start
    if not result.success:
        raise SystemExit("dkd_reintegratie mislukte")
    (metadata,) = [e.materialization.metadata for e in result.get_asset_materialization_events()]
    return {
        "seconden": seconden,
        "piek_rss_mb": _piek_mb(),
        "clients": metadata["dagster/partition_row_count"].value,
    }


def iterparse(xml: str) -> dict:
    """The floor: count the elements, clearing each."""
    from lxml import etree

    start = time.perf_counter()
    elementen = 0
    for _, element in etree.iterparse(xml, events=("end",)):
        elementen += 1
        element.clear(keep_tail=False)
    return {
        "seconden": time.perf_counter() - start,
        "piek_rss_mb": _piek_mb(),
        "elementen": elementen,
    }


if __name__ == "__main__":
    soort, *argumenten = sys.argv[1:]
    print(json.dumps({"dkd": dkd, "iterparse": iterparse}[soort](*argumenten)))
