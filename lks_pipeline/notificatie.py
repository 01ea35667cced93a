"""Notification e-mails (DESIGN 6.2): one per new or changed signaalrapport, never personal data.

Pure mail code, no Dagster: the message of one report, and two ways to deliver it (SMTP, or an
`.eml` file in `outbox/` when no SMTP server is configured). The ledger that makes sending
exactly-once lives in the `notificaties` asset.

Decisions where the spec is silent:
- The Message-ID is derived from the report file and its sha256, so the mail of one report
  content always carries the same id. A crash between the server accepting a mail and the ledger
  recording it re-sends that mail once on the next run; a receiving system can drop the copy by
  its Message-ID.
- The body names the gemeente, the product, the file, the delivery day and the number of
  signals, and says when the file replaces an earlier version. It holds no BSN and no name.
- STARTTLS is on by default; with a user set, the password is only ever sent over TLS.
- An `.eml` is written atomically under a name made of the report file and its sha256, so
  writing it twice gives one file.
"""

import datetime as dt
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from lks_pipeline.signaalrapport import PRODUCTEN, private_folder, schrijf_atomisch

AFZENDER_NAAM = "LKS signaalverwerking"


@dataclass(frozen=True)
class Melding:
    """What a notification says about one report; all of it may be shown in logs and the UI."""

    bestand: str
    sha256: str
    leverdatum: dt.date
    gemeentecode: str
    gemeentenaam: str
    product: str
    aantal: int
    vervangt_eerdere: bool = False

    @property
    def onderwerp(self) -> str:
        return {p.naam: p.onderwerp for p in PRODUCTEN}[self.product]

    def message_id(self, afzender: str) -> str:
        domein = afzender.rpartition("@")[2] or "localhost"
        return f"<{self.bestand.removesuffix('.csv')}.{self.sha256[:16]}@{domein}>"

    def tekst(self) -> str:
        regels = [
            "Geachte heer, mevrouw,",
            "",
            f"Er staat een signaalrapport '{self.product}' voor uw gemeente klaar.",
            "",
            f"Gemeente:        {self.gemeentecode} {self.gemeentenaam}".rstrip(),
            f"Bestand:         {self.bestand}",
            f"Leverdatum:      {self.leverdatum:%d-%m-%Y}",
            f"Aantal signalen: {self.aantal}",
        ]
        if self.vervangt_eerdere:
            regels += ["", "Dit bestand vervangt een eerdere versie met dezelfde naam."]
        regels += [
            "",
            "Deze e-mail bevat geen persoonsgegevens;",
            "de signalen staan alleen in het bestand.",
            "",
            "Met vriendelijke groet,",
            AFZENDER_NAAM,
            "",
        ]
        return "\n".join(regels)


def bericht(melding: Melding, afzender: str, ontvanger: str) -> EmailMessage:
    """The e-mail for one report, to one gemeente address."""
    msg = EmailMessage()
    msg["From"] = f"{AFZENDER_NAAM} <{afzender}>"
    msg["To"] = ontvanger
    msg["Subject"] = melding.onderwerp
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = melding.message_id(afzender)
    msg["X-LKS-Rapport"] = melding.bestand
    msg.set_content(melding.tekst())
    return msg


class Onbezorgbaar(Exception):
    """The mail was not accepted; `alles` says whether the whole transport is down."""

    def __init__(self, reden: str, *, alles: bool):
        super().__init__(reden)
        self.alles = alles


def _reden(error: Exception) -> str:
    """A short, loggable reason: the error class and its text (never message content)."""
    return f"{type(error).__name__}: {error}"[:300]


class SmtpVerzending:
    """One SMTP session for a run's mails: connect once, send each, quit."""

    def __init__(self, smtp: smtplib.SMTP):
        self._smtp = smtp

    def verstuur(self, msg: EmailMessage) -> str:
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            raise Onbezorgbaar(_reden(error), alles=False) from error
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise Onbezorgbaar(_reden(error), alles=True) from error
        except smtplib.SMTPException as error:
            raise Onbezorgbaar(_reden(error), alles=False) from error
        return "smtp"


class OutboxVerzending:
    """Writes each mail as `outbox/<report>.<sha256 prefix>.eml` (mode 0600, folder 0700)."""

    def __init__(self, outbox: Path):
        self._outbox = private_folder(outbox)

    def verstuur(self, msg: EmailMessage) -> str:
        naam = msg["Message-ID"].strip("<>").rpartition("@")[0]
        schrijf_atomisch(self._outbox / f"{naam}.eml", bytes(msg))
        return "eml"


@contextmanager
def smtp_sessie(
    host: str,
    port: int,
    *,
    starttls: bool,
    user: str | None,
    password: str | None,
    timeout: float,
) -> Iterator[SmtpVerzending]:
    """Open, secure and log in; `Onbezorgbaar(alles=True)` when the server cannot be used."""
    try:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    except OSError as error:
        raise Onbezorgbaar(_reden(error), alles=True) from error
    try:
        try:
            smtp.ehlo()
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                if not starttls:
                    raise Onbezorgbaar(
                        "LKS_SMTP_USER is gezet zonder STARTTLS: het wachtwoord gaat nooit "
                        "onversleuteld over het netwerk",
                        alles=True,
                    )
                smtp.login(user, password or "")
        except (smtplib.SMTPException, OSError) as error:
            raise Onbezorgbaar(_reden(error), alles=True) from error
        yield SmtpVerzending(smtp)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
