"""The portal's settings for the test process (pytest-django loads them before any test).

The production settings unchanged, but for a fixed secret key, so that loading them writes no
key file into the repository's data root; each test points the portal at its own data root.
"""

import os

os.environ.setdefault("LKS_PORTAAL_SECRET_KEY", "alleen-voor-tests-" + "x" * 40)

from lks_pipeline.portaal.settings import *  # noqa: F403
