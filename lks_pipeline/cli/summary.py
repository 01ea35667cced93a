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
WAITING_SQL = "SELECT count(*) FROM notificaties WHERE status = 'te_verzenden'"
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


def waiting(conn: duckdb.DuckDBPyConnection) -> int:
    """Notifications still to send: their reports are written, the mail could not go out yet."""
    (count,) = conn.execute(WAITING_SQL).fetchone()
    return count


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
    notificaties_verzonden: int = 0
    notificaties_wachtend: int = 0
    duur_s: float = 0.0
    steps_failed: bool = False  # a run failed in a step other than notificaties
    # Each processed day as its last run left it: a day recomputed in a later round (`dubbel`)
    # counts once.
    days: dict[str, Day] = field(default_factory=dict)

    def add_files(self, files: Files) -> None:
        self.bestanden += files.parsed
        self.bestanden_afgewezen += files.afgewezen
        self.regels_in_quarantaine += files.regels_in_quarantaine

    def add_day(self, leverdatum: str, counts: Day) -> None:
        self.days[leverdatum] = counts

    def _sum(self, count: str) -> int:
        return sum(getattr(day, count) for day in self.days.values())

    leverdagen = property(lambda self: sorted(self.days))
    events = property(lambda self: self._sum("events"))
    gemeld = property(lambda self: self._sum("gemeld"))
    niet_routeerbaar = property(lambda self: self._sum("niet_routeerbaar"))
    rapporten = property(lambda self: self._sum("rapporten_geschreven"))
    signalen_in_rapporten = property(lambda self: self._sum("signalen_in_rapporten"))

    @property
    def aanleverfouten(self) -> int | None:
        """Those of the newest day processed: each day's are the whole current state."""
        return self.days[max(self.days)].aanleverfouten if self.days else None

    def as_json(self) -> dict:
        """The object `process --json` prints (docs/operations.md, "The command line")."""
        return {key: getattr(self, key) for key in JSON_KEYS}

    def text(self) -> str:
        """The closing line."""
        errors = (
            f" Aanleverfouten on {max(self.leverdagen)}: {self.aanleverfouten}."
            if self.leverdagen
            else ""
        )
        waiting = f", {self.notificaties_wachtend} waiting" if self.notificaties_wachtend else ""
        return (
            f"Done: {self.runs_geslaagd} runs succeeded, {self.runs_mislukt} failed. "
            f"Files read: {self.bestanden} ({self.bestanden_afgewezen} afgewezen, "
            f"{self.regels_in_quarantaine} rows in quarantaine). Signalen: {self.events} "
            f"events, {self.gemeld} gemeld, {self.niet_routeerbaar} niet routeerbaar. "
            f"Rapporten: {self.rapporten} written, {self.signalen_in_rapporten} signalen. "
            f"Notificaties: {self.notificaties_verzonden} sent{waiting}.{errors} "
            f"{self.duur_s:.1f} s."
        )


# The keys of `process --json`, in this order; `aanleverfouten` is of the newest day processed
# (null when no day was), `leverdagen` the ISO dates processed, `duur_s` the whole command.
JSON_KEYS = (
    "runs_geslaagd",
    "runs_mislukt",
    "bestanden",
    "bestanden_afgewezen",
    "regels_in_quarantaine",
    "events",
    "gemeld",
    "niet_routeerbaar",
    "rapporten",
    "notificaties_verzonden",
    "notificaties_wachtend",
    "aanleverfouten",
    "leverdagen",
    "duur_s",
)
