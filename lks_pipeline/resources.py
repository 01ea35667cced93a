"""Resources: where the data root is, and the warehouse connection.

Every setting has a working default, so the demo needs nothing set; `definitions.py` turns the
`LKS_*` environment variables into `EnvVar`s so the UI shows where a value came from.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from lks_pipeline.signaalrapport import private_folder


class LksSettings(dg.ConfigurableResource):
    """The data root of DESIGN 3 and the folders under it."""

    data_dir: str = Field(
        default="data",
        description="LKS_DATA_DIR: root of inbox/, warehouse/, reports/ and outbox/.",
    )

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def reports(self) -> Path:
        return self.root / "reports"


class Warehouse(DuckDBResource):
    """DuckDBResource that creates its folder privately and always closes its connection.

    The folder is made mode 0700 so that neither the database nor its WAL is readable by other
    users. Upstream's `get_connection` closes only when the block succeeds; a failed step would
    keep the file open in a long-lived process (the CLI, a code server).
    """

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.database != ":memory:":
            private_folder(Path(self.database).resolve().parent)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()
