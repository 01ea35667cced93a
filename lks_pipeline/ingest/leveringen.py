"""Which delivered files to read, and the record of each one read: `leveringen`, `quarantaine`.

Pure ingest bookkeeping (DuckDB and the readers, no Dagster), shared by every feed.

Decisions where the spec is silent:
- Every delivery of a partition is read once, known by name and sha256 in `leveringen` (hashed
  again only when its size or mtime changed), even when a newer one replaces it, so the
  quarantine and `leveringen` keep the history of each gemeente's deliveries that the
  aanleverfouten are evaluated over.
- A snapshot partition (verwijsindex, dkd_reintegratie) holds the newest file that was not
  rejected whole; a rejected newer file leaves it as it was.
- A file that changed while it was read (its inode, size, mtime or ctime differ from the
  scan's: an upload still in progress, or a file replaced) is not used at all. While the newest
  file of a snapshot partition is deferred, no older one is loaded in its place.
"""

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import duckdb

from lks_pipeline.core.warehouse import replace_row, replace_rows, utc_now
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.result import Quarantaine, ReadResult, quarantaine_rows

Reader = Callable[[Levering], ReadResult]


class KnownFile(NamedTuple):
    """What `leveringen` remembers of a file: enough to skip it without reading it again."""

    sha256: str
    status: str
    grootte: int | None
    mtime_ns: int | None


def known_files(conn: duckdb.DuckDBPyConnection, feed: str) -> dict[str, KnownFile]:
    """Map each file of `feed` already read to what was recorded of it."""
    rows = conn.execute(
        "SELECT bestand, sha256, status, grootte, mtime_ns FROM leveringen WHERE feed = ?", [feed]
    ).fetchall()
    return {bestand: KnownFile(*rest) for bestand, *rest in rows}


@dataclass
class ReadFile:
    """One file this run read: either its rows or the reason it was rejected whole."""

    levering: Levering
    sha256: str
    parsed: ReadResult | None = None
    afgewezen: FileRejected | None = None

    @property
    def quarantaine(self) -> list[Quarantaine]:
        if self.afgewezen is not None:
            return [Quarantaine(self.afgewezen.regel, None, self.afgewezen.reden)]
        return self.parsed.quarantaine


def read_file(levering: Levering, sha256: str, reader: Reader) -> ReadFile:
    """Read one file; a file-level rejection is a result, not an exception."""
    try:
        parsed = reader(levering)
    except FileRejected as rejected:
        return ReadFile(levering, sha256, afgewezen=rejected)
    return ReadFile(levering, sha256, parsed=parsed)


def _read_and_hash(levering: Levering, reader: Reader) -> ReadFile:
    """A new file: hash it on the other core while it is parsed (hashlib and file reads release
    the GIL), instead of reading it twice in a row."""  # noqa: D205, D209
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(levering.sha256)
        read = read_file(levering, "", reader)
        read.sha256 = hashing.result()
    return read


@dataclass
class Selection:
    """What one partition's files gave this run."""

    read: list[ReadFile] = field(default_factory=list)
    loaded: ReadFile | None = None  # whose rows the partition should hold; None: keep them
    deferred: list[Levering] = field(default_factory=list)  # changed while read: next run
    holds_newest: bool = False

    def needs_rows(self, snapshot: bool) -> bool:
        return snapshot and self.loaded is None and not self.deferred and not self.holds_newest


def read_new(
    leveringen: list[Levering],
    known: dict[str, KnownFile],
    reader: Reader,
    *,
    snapshot: bool,
    reread: bool = True,
) -> Selection:
    """Read every file not yet known, and (for a `snapshot` feed) the newest accepted one.

    Without `reread`, a known, unchanged file whose rows the partition holds (status `geladen`,
    written in the same transaction as the rows) is not read again.
    """
    selection = Selection()
    for levering in sorted(leveringen, key=lambda lv: lv.leverdatum, reverse=True):
        need_rows = selection.needs_rows(snapshot)
        previous = known.get(levering.bestand)
        if previous is None:
            read = _read_and_hash(levering, reader)
        else:
            untouched = (previous.grootte, previous.mtime_ns) == (levering.size, levering.mtime_ns)
            sha256 = previous.sha256 if untouched else levering.sha256()
            if previous.sha256 == sha256:
                if previous.status == "afgewezen" or not need_rows:
                    continue
                if previous.status == "geladen" and not reread:
                    selection.holds_newest = True
                    continue
            read = read_file(levering, sha256, reader)
        if levering.changed():
            selection.deferred.append(levering)
            continue
        selection.read.append(read)
        if need_rows and read.parsed is not None:
            selection.loaded = read
    return selection


def likely_reads(leveringen: list[Levering], known: dict[str, KnownFile]) -> list[Levering]:
    """The files `read_new` will read, newest first, judged without hashing: the new ones and
    the ones whose size or mtime changed. What to read ahead (`parallel.py`); a guess only."""  # noqa: D205, D209
    return [
        lv
        for lv in sorted(leveringen, key=lambda lv: lv.leverdatum, reverse=True)
        if (previous := known.get(lv.bestand)) is None
        or (previous.grootte, previous.mtime_ns) != (lv.size, lv.mtime_ns)
    ]


def record(conn, feed: str, selection: Selection, gemeentecode: str | None) -> None:
    """Write `leveringen` and `quarantaine` for the files read, inside the caller's transaction.

    `gemeentecode`: the partition of a per-gemeente snapshot feed, whose older loaded files
    become `vervangen` when a newer one is loaded.
    """
    now = utc_now()
    loaded = selection.loaded
    if loaded is not None and gemeentecode is not None:
        conn.execute(
            "UPDATE leveringen SET status = 'vervangen' "
            "WHERE feed = ? AND gemeentecode = ? AND status = 'geladen'",
            [feed, gemeentecode],
        )
    for read in selection.read:
        replaced = loaded is not None and read is not loaded and gemeentecode is not None
        lv = read.levering
        where, params = "feed = ? AND bestand = ?", [feed, lv.bestand]
        replace_row(conn, "leveringen", _levering_row(feed, read, replaced, now), where, params)
        quarantaine = quarantaine_rows(
            feed, lv.bestand, lv.gemeentecode, lv.leverdatum, read.quarantaine
        )
        replace_rows(conn, "quarantaine", quarantaine, where, params)


def _levering_row(feed: str, read: ReadFile, replaced: bool, now: dt.datetime) -> dict:
    """The `leveringen` row of one file read."""
    lv = read.levering
    if read.afgewezen is not None:
        status, geladen, version = "afgewezen", 0, None
    else:
        status = "vervangen" if replaced else "geladen"
        geladen, version = read.parsed.regels_geladen, read.parsed.berichtversie
    return {
        "feed": feed,
        "bestand": lv.bestand,
        "gemeentecode": lv.gemeentecode,
        "leverdatum": lv.leverdatum,
        "sha256": read.sha256,
        "grootte": lv.size,
        "mtime_ns": lv.mtime_ns,
        "status": status,
        "regels_geladen": geladen,
        "regels_gequarantaineerd": len(read.quarantaine),
        "berichtversie": version,
        "reden": read.afgewezen.reden if read.afgewezen else None,
        "verwerkt_op": now,
    }
