"""`lks-pipeline dev`: the Dagster UI on the command line's instance, from any directory.

The code location is the installed module `lks_pipeline.definitions`, not the repository's
`workspace.yaml`, so the UI starts wherever the command is run; the data root and
DAGSTER_HOME follow the working directory as for every other command (docs/operations.md).
"""

import os
import sys
from pathlib import Path

from lks_pipeline.automation.instance import ensure_dagster_home


def run(extra: list[str]) -> int:
    """Replace this process with `dagster dev` on the same DAGSTER_HOME."""
    home = ensure_dagster_home()
    print(f"DAGSTER_HOME={home}", file=sys.stderr)
    # The dagster of this environment, also when its bin/ is not on PATH.
    naast = Path(sys.executable).parent / "dagster"
    dagster = str(naast) if naast.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-m", "lks_pipeline.definitions", *extra])
    return 0  # unreachable: execvp replaces this process
