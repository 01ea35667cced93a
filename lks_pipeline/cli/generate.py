"""`lks-pipeline generate`: write a synthetic inbox (docs/operations.md, "The demo inbox")."""

import dataclasses
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

from lks_pipeline.cli import DONE, FAILED
from lks_pipeline.cli.terminal import Terminal
from lks_pipeline.core.settings import data_root
from lks_pipeline.synthetic.generator import SCALES, generate


def run(
    *,
    scale: str,
    seed: int,
    until: dt.date,
    out: str | None,
    overwrite: bool,
    quiet: bool,
    sizes: dict[str, int | None],
) -> int:
    """Write a synthetic inbox; refuses to mix with an existing one unless told to replace it."""
    schaal = dataclasses.replace(
        SCALES[scale], **{field: n for field, n in sizes.items() if n is not None}
    )
    uit = Path(out) if out else data_root() / "inbox"
    if uit.exists() and any(uit.iterdir()):
        if not overwrite:
            print(f"lks-pipeline generate: {uit} is not empty; --overwrite replaces it",
                  file=sys.stderr)  # fmt: skip
            return FAILED
        for folder in ("uwv", "verwijsindex", "dkd"):
            shutil.rmtree(uit / folder, ignore_errors=True)
    start = time.monotonic()
    with Terminal(quiet=quiet).work(f"generate {scale} in {uit}"):
        result = generate(uit, schaal, seed, until)
    grootte = sum(p.stat().st_size for p in result.bestanden)
    bad = ", ".join(f"{feed} {n}" for feed, n in result.quarantaine.items())
    print(
        f"{len(result.bestanden)} files ({grootte / 1e6:.1f} MB) in {uit} "
        f"in {time.monotonic() - start:.1f} s; rows meant for the quarantine: {bad}"
    )
    return DONE
