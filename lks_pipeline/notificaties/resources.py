"""How notification mail leaves (rules 6.2): the `mail` resource."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from lks_pipeline.notificaties.message import PORTAAL_URL
from lks_pipeline.notificaties.storing import DAGSTER_URL
from lks_pipeline.notificaties.transport import OutboxTransport, SmtpTransport, channel


class Mail(dg.ConfigurableResource):
    """How notifications leave (rules 6.2): SMTP when `smtp_host` is set, else `.eml` files."""

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

    portaal_url: str = Field(
        default=PORTAAL_URL,
        description="LKS_PORTAAL_URL: the portal's public address, named in every mail.",
    )

    beheer_email: str = Field(
        default="",
        description="LKS_BEHEER_EMAIL: operators' address(es), comma-separated; empty: no alerts.",
    )
    dagster_url: str = Field(
        default=DAGSTER_URL,
        description="LKS_DAGSTER_URL: the Dagster UI's address, for the run link in an alert.",
    )

    @property
    def beheerders(self) -> list[str]:
        return [a.strip() for a in self.beheer_email.split(",") if a.strip()]

    @property
    def kanaal(self) -> str:
        return f"smtp://{self.smtp_host}:{self.smtp_port}" if self.smtp_host else "outbox"

    @contextmanager
    def transport(self, outbox: Path) -> Iterator[OutboxTransport | SmtpTransport]:
        """A transport for this run's mails: one SMTP session, or the outbox folder."""
        with channel(
            outbox,
            self.smtp_host,
            self.smtp_port,
            starttls=self.smtp_starttls,
            user=self.smtp_user,
            password=self.smtp_password,
            timeout=self.smtp_timeout_seconds,
        ) as transport:
            yield transport
