"""`python -m lks_pipeline.cli`: the same as the `lks-pipeline` console script."""

import sys

from lks_pipeline.cli import main

sys.exit(main())
