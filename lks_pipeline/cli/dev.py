"""`lks-pipeline dev`: the Dagster UI on the command line's instance."""

import argparse
import os
import sys
from pathlib import Path

from lks_pipeline.automation.instance import ensure_dagster_home


def run(args: argparse.Namespace) -> int:
    """Replace this process with `dagster dev` on the same DAGSTER_HOME."""
    home = ensure_dagster_home()
    print(f"DAGSTER_HOME={home}")
    extra = args.dagster_args[1:] if args.dagster_args[:1] == ["--"] else args.dagster_args
    # The dagster of this environment, also when its bin/ is not on PATH.
    naast = Path(sys.executable).parent / "dagster"
    dagster = str(naast) if naast.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-w", "workspace.yaml", *extra])
    return 0  # unreachable: execvp replaces this process
