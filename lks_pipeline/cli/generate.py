"""`lks-pipeline generate`: write a synthetic inbox (docs/operations.md, "The demo inbox")."""

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

from lks_pipeline.core.settings import data_root
from lks_pipeline.synthetic.generator import SCALES, Scale, generate


def run(args: argparse.Namespace) -> int:
    """Write a synthetic inbox; refuses to mix with an existing one unless told to replace it."""
    base_scale = SCALES[args.schaal]
    schaal = Scale(
        **{
            field_name: getattr(args, field_name)
            if getattr(args, field_name, None) is not None
            else value
            for field_name, value in vars(base_scale).items()
        }
    )
    uit = Path(args.uit) if args.uit else data_root() / "inbox"
    if uit.exists() and any(uit.iterdir()):
        if not args.overschrijf:
            print(
                f"{uit} is niet leeg; gebruik --overschrijf om het te vervangen.", file=sys.stderr
            )
            return 2
        for folder in ("uwv", "verwijsindex", "dkd"):
            shutil.rmtree(uit / folder, ignore_errors=True)
    start = time.monotonic()
    result = generate(uit, schaal, args.seed, dt.date.fromisoformat(args.tot))
    grootte = sum(p.stat().st_size for p in result.bestanden)
    print(
        f"{len(result.bestanden)} bestanden ({grootte / 1e6:.1f} MB) in {uit} "
        f"in {time.monotonic() - start:.1f} s; bewust foute regels: {result.quarantaine}"
    )
    return 0
