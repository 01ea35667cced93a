"""What one `lks-pipeline process` did, counted in the warehouse, not read from the UI.

The counts come from the tables the runs wrote: `leveringen` rows recorded since a run started
(files read or rejected and their quarantined rows), the processed days' `signalen`,
`signaalrapporten` and `dkd_aanleverfouten`, and the `notificaties` sent since a run started.
So the summary says what is in the warehouse, and a label renamed in the UI changes nothing
here.
"""

import datetime as dt
from dataclasses import dataclass, field

import duckdb

# Files a feed read (they have a sha256); inbox entries that are never read, recorded beside
# them by inbox_bestandsnamen, are not files read.
FILES_SQL = """
SELECT count(*), count(*) FILTER (WHERE status = 'afgewezen'),
    coalesce(sum(regels_gequarantaineerd), 0)
FROM leveringen WHERE verwerkt_op >= $since AND sha256 IS NOT NULL
"""
SENT_SQL = "SELECT count(*) FROM notificaties WHERE verzonden_op >= $since"
DAY_SQL = """
SELECT
    (SELECT count(*) FROM uwv_events WHERE leverdatum = $day),
    (SELECT count(*) FROM signalen WHERE leverdatum = $day AND uitkomst = 'gemeld'),
    (SELECT count(*) FROM signalen WHERE leverdatum = $day AND uitkomst = 'niet_routeerbaar'),
    (SELECT count(*) FROM signaalrapporten WHERE leverdatum = $day),
    (SELECT count(*) FROM signaalrapporten WHERE leverdatum = $day AND geschreven_op >= $since),
    (SELECT coalesce(sum(aantal), 0) FROM signaalrapporten WHERE leverdatum = $day),
    (SELECT count(*) FROM dkd_aanleverfouten WHERE dag = $day),
    (SELECT count(DISTINCT gemeentecode) FROM dkd_aanleverfouten WHERE dag = $day)
"""


@dataclass(frozen=True)
class Files:
    """Files a run recorded in `leveringen`: read or rejected, and their quarantined rows."""

    parsed: int
    afgewezen: int
    regels_in_quarantaine: int


@dataclass(frozen=True)
class Day:
    """One delivery day after its signal path ran."""

    events: int
    gemeld: int
    niet_routeerbaar: int
    rapporten: int
    rapporten_geschreven: int
    signalen_in_rapporten: int
    aanleverfouten: int
    gemeenten_met_fouten: int


def files_since(conn: duckdb.DuckDBPyConnection, since: dt.datetime) -> Files:
    """The files recorded since `since`."""
    return Files(*conn.execute(FILES_SQL, {"since": since}).fetchone())


def sent_since(conn: duckdb.DuckDBPyConnection, since: dt.datetime) -> int:
    """Notifications accepted (or written to outbox/) since `since`."""
    (sent,) = conn.execute(SENT_SQL, {"since": since}).fetchone()
    return sent


def day(conn: duckdb.DuckDBPyConnection, leverdatum: str, since: dt.datetime) -> Day:
    """The counts of one day whose signal path ran since `since`."""
    parameters = {"day": dt.date.fromisoformat(leverdatum), "since": since}
    return Day(*conn.execute(DAY_SQL, parameters).fetchone())


@dataclass
class ProcessResult:
    """The whole `process`: its runs and what they did, added up."""

    runs_geslaagd: int = 0
    runs_mislukt: int = 0
    bestanden: int = 0
    bestanden_afgewezen: int = 0
    regels_in_quarantaine: int = 0
    events: int = 0
    gemeld: int = 0
    niet_routeerbaar: int = 0
    rapporten: int = 0
    signalen_in_rapporten: int = 0
    notificaties_verzonden: int = 0
    leverdagen: list[str] = field(default_factory=list)
    aanleverfouten: int | None = None  # of the newest day processed

    def add_files(self, files: Files) -> None:
        self.bestanden += files.parsed
        self.bestanden_afgewezen += files.afgewezen
        self.regels_in_quarantaine += files.regels_in_quarantaine

    def add_day(self, leverdatum: str, counts: Day) -> None:
        self.leverdagen.append(leverdatum)
        self.events += counts.events
        self.gemeld += counts.gemeld
        self.niet_routeerbaar += counts.niet_routeerbaar
        self.rapporten += counts.rapporten_geschreven
        self.signalen_in_rapporten += counts.signalen_in_rapporten
        self.aanleverfouten = counts.aanleverfouten

    def text(self) -> str:
        """The closing line, in Dutch like the rest of the command's output."""
        errors = (
            f" Aanleverfouten op {max(self.leverdagen)}: {self.aanleverfouten}."
            if self.leverdagen
            else ""
        )
        return (
            f"Klaar: {self.runs_geslaagd} runs geslaagd, {self.runs_mislukt} mislukt. "
            f"Bestanden gelezen: {self.bestanden} ({self.bestanden_afgewezen} afgewezen, "
            f"{self.regels_in_quarantaine} regels in quarantaine). Signalen: {self.events} "
            f"events, {self.gemeld} gemeld, {self.niet_routeerbaar} niet routeerbaar. "
            f"Rapporten: {self.rapporten} geschreven, {self.signalen_in_rapporten} signalen. "
            f"Notificaties: {self.notificaties_verzonden} verzonden.{errors}"
        )
