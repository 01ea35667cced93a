"""The activation e-mail (rules 8.1), over the notifications' channel: SMTP or `.eml` in outbox/.

The same LKS_SMTP_* settings and transport as the notifications (rules 6.2), so an operator
configures mail once. The link is the only secret in it: it works once, for 72 hours, and is
never written to a log or the audit log.
"""

import time
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings

from lks_pipeline.notificaties.message import envelope, message_id
from lks_pipeline.notificaties.transport import channel

ONDERWERP = "Activeer uw account voor het Gemeenteportaal LKS"


def activatie_bericht(user, gemeentenaam: str, door: str, link: str) -> EmailMessage:
    """The mail to `user`'s own address that invites it to set a password and second factor."""
    naam = user.get_username()
    body = "\n".join(
        [
            "Geachte heer, mevrouw,",
            "",
            f"{door} heeft voor u een account gemaakt in het Gemeenteportaal LKS,",
            f"voor gemeente {gemeentenaam}. Uw gebruikersnaam is: {naam}",
            "",
            "Activeer uw account binnen 72 uur met deze link (hij werkt één keer):",
            link,
            "",
            "U kiest dan een wachtwoord en koppelt een authenticator-app op uw telefoon",
            "(de tweede factor). Daarna logt u in met beide.",
            "",
            "Verwachtte u deze e-mail niet? Dan kunt u hem negeren.",
            "",
            "Met vriendelijke groet,",
            "Gemeenteportaal LKS",
            "",
        ]
    )
    local = f"activatie.{user.pk}.{time.time_ns()}"
    headers = {"Message-ID": message_id(local, settings.MAIL_FROM)}
    return envelope(settings.MAIL_FROM, user.email, ONDERWERP, headers, body)


def verstuur(msg: EmailMessage) -> str:
    """Send over SMTP when LKS_SMTP_HOST is set, else write the `.eml`; raises Undeliverable."""
    with channel(
        Path(settings.DATA_ROOT) / "outbox",
        settings.SMTP_HOST,
        settings.SMTP_PORT,
        starttls=settings.SMTP_STARTTLS,
        user=settings.SMTP_USER,
        password=settings.SMTP_PASSWORD,
        timeout=settings.SMTP_TIMEOUT,
    ) as transport:
        return transport.send(msg)
