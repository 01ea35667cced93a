"""The alert to operators about a failed run (rules 7): one e-mail to LKS_BEHEER_EMAIL per run.

Pure mail code, no Dagster, like the notification's `message.py`, and sent over the same
channel. It names the job, the partition(s), the failed step(s), the error class and the run's
page in the UI, and nothing else: an error's text can quote a row of input (a BSN, a name), so
only its class goes out. The Message-ID is derived from the run id, so a mail that was sent
twice (a crash between sending and recording) can be dropped by the receiver.
"""

from dataclasses import dataclass
from email.message import EmailMessage

from lks_pipeline.notificaties.message import envelope, message_id

# LKS_DAGSTER_URL's default: the UI of `lks-pipeline dev` on this machine.
DAGSTER_URL = "http://127.0.0.1:3000/"


@dataclass(frozen=True)
class Storing:
    """What an alert says about one failed run; all of it may be shown in logs."""

    run_id: str
    job: str
    partities: str
    stappen: tuple[str, ...]
    foutklassen: tuple[str, ...]

    @property
    def subject(self) -> str:
        partities = f" ({self.partities})" if self.partities else ""
        return f"lks-pipeline: run mislukt: {self.job}{partities}"

    def body(self, dagster_url: str) -> str:
        return "\n".join(
            [
                "Een run van lks-pipeline is mislukt.",
                "",
                f"Job:        {self.job}",
                f"Partitie:   {self.partities or '-'}",
                f"Stap:       {', '.join(self.stappen) or '- (buiten een stap)'}",
                f"Fout:       {', '.join(self.foutklassen) or 'onbekend'}",
                f"Run:        {self.run_id}",
                f"In de UI:   {dagster_url.rstrip('/')}/runs/{self.run_id}",
                "",
                "De foutmelding zelf staat alleen in de UI: zij kan invoer citeren.",
                "Herstel en opnieuw uitvoeren: docs/operations.md, Recovery.",
                "",
            ]
        )


def storing_message(
    storing: Storing, sender: str, ontvangers: list[str], dagster_url: str
) -> EmailMessage:
    """The alert for one failed run, to every operator address."""
    headers = {
        "Message-ID": message_id(f"storing.{storing.run_id}", sender),
        "X-LKS-Run": storing.run_id,
    }
    return envelope(
        sender, ", ".join(ontvangers), storing.subject, headers, storing.body(dagster_url)
    )


@dataclass(frozen=True)
class TeLaat:
    """The alert that a delivery day's signaalrapporten were not made by the deadline."""

    dag: str
    deadline: str

    @property
    def subject(self) -> str:
        return f"lks-pipeline: signaalrapporten van {self.dag} niet op tijd"

    def body(self, dagster_url: str) -> str:
        return "\n".join(
            [
                f"De signaalrapporten van leverdag {self.dag} waren om {self.deadline}",
                "nog niet gemaakt. Gemeenten wachten erop.",
                "",
                "Kijk of het UWV-bestand van die dag binnen is, en of de run van die dag",
                "wacht, loopt of mislukte (daarover komt een eigen melding).",
                f"In de UI:   {dagster_url.rstrip('/')}/assets/signaalrapporten",
                "",
                "Herstel en opnieuw uitvoeren: docs/operations.md, Recovery.",
                "Deze melding komt één keer per dag.",
                "",
            ]
        )


def te_laat_message(
    te_laat: TeLaat, sender: str, ontvangers: list[str], dagster_url: str
) -> EmailMessage:
    """The alert of a late day, to every operator address; one Message-ID per day."""
    headers = {"Message-ID": message_id(f"te-laat.{te_laat.dag}", sender)}
    return envelope(
        sender, ", ".join(ontvangers), te_laat.subject, headers, te_laat.body(dagster_url)
    )
