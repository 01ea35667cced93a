"""How a notification e-mail is delivered: one SMTP session per run, or `.eml` files in `outbox/`.

Pure mail code, no Dagster. STARTTLS is on by default; with a user set, the password is only ever
sent over TLS. An `.eml` is written atomically under a name made of the report file and its
sha256, so writing it twice gives one file.
"""

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from lks_pipeline.core.files import private_folder, write_atomic


class Undeliverable(Exception):
    """The mail was not accepted; `transport_down` says whether the whole transport is down."""

    def __init__(self, reason: str, *, transport_down: bool):
        super().__init__(reason)
        self.transport_down = transport_down


def _reason(error: Exception) -> str:
    """A short, loggable reason: the error class and its text (never message content)."""
    return f"{type(error).__name__}: {error}"[:300]


class SmtpTransport:
    """One SMTP session for a run's mails: connect once, send each, quit."""

    def __init__(self, smtp: smtplib.SMTP):
        self._smtp = smtp

    def send(self, msg: EmailMessage) -> str:
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            raise Undeliverable(_reason(error), transport_down=False) from error
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise Undeliverable(_reason(error), transport_down=True) from error
        except smtplib.SMTPException as error:
            raise Undeliverable(_reason(error), transport_down=False) from error
        return "smtp"


class OutboxTransport:
    """Writes each mail as `outbox/<report>.<sha256 prefix>.eml` (mode 0600, folder 0700)."""

    def __init__(self, outbox: Path):
        self._outbox = private_folder(outbox)

    def send(self, msg: EmailMessage) -> str:
        name = msg["Message-ID"].strip("<>").rpartition("@")[0]
        write_atomic(self._outbox / f"{name}.eml", bytes(msg))
        return "eml"


@contextmanager
def smtp_session(
    host: str,
    port: int,
    *,
    starttls: bool,
    user: str | None,
    password: str | None,
    timeout: float,
) -> Iterator[SmtpTransport]:
    """Open, secure and log in; `Undeliverable(transport_down=True)` when the server fails."""
    try:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    except OSError as error:
        raise Undeliverable(_reason(error), transport_down=True) from error
    try:
        try:
            smtp.ehlo()
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                if not starttls:
                    raise Undeliverable(
                        "LKS_SMTP_USER is gezet zonder STARTTLS: het wachtwoord gaat nooit "
                        "onversleuteld over het netwerk",
                        transport_down=True,
                    )
                smtp.login(user, password or "")
        except (smtplib.SMTPException, OSError) as error:
            raise Undeliverable(_reason(error), transport_down=True) from error
        yield SmtpTransport(smtp)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


@contextmanager
def channel(
    outbox: Path,
    host: str,
    port: int,
    *,
    starttls: bool,
    user: str,
    password: str,
    timeout: float,
) -> Iterator[OutboxTransport | SmtpTransport]:
    """The one channel of every mail: SMTP when `host` is set, else `.eml` files in `outbox`."""
    if not host:
        yield OutboxTransport(outbox)
        return
    with smtp_session(
        host, port, starttls=starttls, user=user or None, password=password or None,
        timeout=timeout,
    ) as session:  # fmt: skip
        yield session
