"""Notification e-mails (rules 6.2): one per new or changed signaalrapport, never personal data.

Pure mail code, no Dagster: the message of one report. Delivering it is `transport.py`'s; the
ledger that makes sending exactly-once lives in the `notificaties` asset.

Decisions where the spec is silent:
- The Message-ID is derived from the report file and its sha256, so the mail of one report
  content always carries the same id. A crash between the server accepting a mail and the ledger
  recording it re-sends that mail once on the next run; a receiving system can drop the copy by
  its Message-ID.
- The body names the gemeente, the product, the file, the delivery day and the number of
  signals, and says when the file replaces an earlier version. It holds no BSN and no name.
- It names the portal page where the report waits (rules 8.4): `LKS_PORTAAL_URL` followed by
  `ophalen/<product>/`, the page that lists the product's reports after logging in. The link
  carries no file name or id, so a forwarded mail reveals nothing more than the mail itself.
"""

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from lks_pipeline.rapporten.signaalrapport import PRODUCTEN

SENDER_NAME = "LKS signaalverwerking"
# LKS_PORTAAL_URL's default: the portal of `lks-pipeline portaal` on this machine.
PORTAAL_URL = "http://127.0.0.1:8000/"


@dataclass(frozen=True)
class Notificatie:
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
    def subject(self) -> str:
        return {p.name: p.subject for p in PRODUCTEN}[self.product]

    def message_id(self, sender: str) -> str:
        return message_id(f"{self.bestand.removesuffix('.csv')}.{self.sha256[:16]}", sender)

    def portaal_pagina(self, portaal_url: str) -> str:
        """The portal page that lists this report's product (rules 8.2, Ophalen)."""
        slug = {p.name: p.slug for p in PRODUCTEN}[self.product]
        return f"{portaal_url.rstrip('/')}/ophalen/{slug}/"

    def body(self, portaal_url: str) -> str:
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
            "U haalt het bestand op in het portaal, na inloggen, onder Ophalen:",
            self.portaal_pagina(portaal_url),
            "",
            "Deze e-mail bevat geen persoonsgegevens;",
            "de signalen staan alleen in het bestand.",
            "",
            "Met vriendelijke groet,",
            SENDER_NAME,
            "",
        ]
        return "\n".join(regels)


def message_id(local: str, sender: str) -> str:
    """A Message-ID of our own making, in the sender's domain: the same mail, the same id."""
    return f"<{local}@{sender.rpartition('@')[2] or 'localhost'}>"


def envelope(
    sender: str, to: str, subject: str, headers: dict[str, str], body: str
) -> EmailMessage:
    """A plain-text mail from the LKS signaalverwerking, with the headers every mail of ours has.

    `headers` come after those, in their order: Message-ID first, then our own X- headers.
    """
    msg = EmailMessage()
    msg["From"] = f"{SENDER_NAME} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(body)
    return msg


def email_message(
    notificatie: Notificatie, sender: str, ontvanger: str, portaal_url: str
) -> EmailMessage:
    """The e-mail for one report, to one gemeente address, naming its portal page."""
    headers = {"Message-ID": notificatie.message_id(sender), "X-LKS-Rapport": notificatie.bestand}
    return envelope(sender, ontvanger, notificatie.subject, headers, notificatie.body(portaal_url))
