"""Resources: where the data root is, the warehouse connection, and how mail goes out.

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

from lks_pipeline.notificatie import OutboxVerzending, SmtpVerzending, smtp_sessie
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

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"


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


class Mail(dg.ConfigurableResource):
    """How notifications leave (DESIGN 6.2): SMTP when `smtp_host` is set, else `.eml` files."""

    smtp_host: str = Field(default="", description="LKS_SMTP_HOST; empty: write to outbox/.")
    smtp_port: int = Field(default=587, description="LKS_SMTP_PORT.")
    smtp_starttls: bool = Field(
        default=True, description="LKS_SMTP_STARTTLS (0/1): upgrade to TLS before anything else."
    )
    smtp_user: str = Field(default="", description="LKS_SMTP_USER; empty: no login.")
    smtp_password: str = Field(default="", description="LKS_SMTP_PASSWORD.")
    smtp_timeout_seconds: float = Field(
        default=30.0, description="LKS_SMTP_TIMEOUT: seconds per SMTP operation."
    )
    mail_from: str = Field(
        default="lks-signalen@localhost", description="LKS_MAIL_FROM: the sender address."
    )

    @property
    def kanaal(self) -> str:
        return f"smtp://{self.smtp_host}:{self.smtp_port}" if self.smtp_host else "outbox"

    @contextmanager
    def verzending(self, outbox: Path) -> Iterator[OutboxVerzending | SmtpVerzending]:
        """A transport for this run's mails: one SMTP session, or the outbox folder."""
        if not self.smtp_host:
            yield OutboxVerzending(outbox)
            return
        with smtp_sessie(
            self.smtp_host,
            self.smtp_port,
            starttls=self.smtp_starttls,
            user=self.smtp_user or None,
            password=self.smtp_password or None,
            timeout=self.smtp_timeout_seconds,
        ) as sessie:
            yield sessie


class DkdWebservice(dg.ConfigurableResource):
    """How the DKD webservice of a gemeente is asked (DESIGN 4.6)."""

    timeout_seconds: float = Field(default=10.0, description="LKS_WEBSERVICE_TIMEOUT per request.")
    pogingen: int = Field(default=3, description="LKS_WEBSERVICE_POGINGEN: attempts per batch.")
    wachttijd_seconds: float = Field(
        default=0.5,
        description="LKS_WEBSERVICE_WACHTTIJD: wait before the 2nd attempt, doubled after.",
    )
    batch_grootte: int = Field(default=500, description="LKS_WEBSERVICE_BATCH: BSNs per request.")


class AanleverDrempels(dg.ConfigurableResource):
    """Thresholds of the DKD-aanleverfouten (DESIGN 6.3)."""

    marge_dagen: int = Field(
        default=7,
        description="LKS_AANLEVER_MARGE_DAGEN: grace after the leverfrequentie (7 or 31 days).",
    )
    verwijsindex_max_dagen: int = Field(
        default=35, description="LKS_VERWIJSINDEX_MAX_DAGEN: older is VERWIJSINDEX_VEROUDERD."
    )
