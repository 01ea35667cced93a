"""The inbox contract of rules 3: which file belongs to which feed, partition and delivery date.

Names are parsed strictly. A gemeentecode must be in the CBS list and a date must exist, so no file
name can steer a write outside our folders. A symlink, anything that resolves outside `inbox/`, a
folder, or a name matching no pattern is an `Unreadable` entry: recorded, never read. Listing costs
one `scandir` and one `lstat` per entry; contents are hashed only by the assets that read them.
"""

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lks_pipeline.referentie.data import gemeentecodes

FEED_FOLDERS = {
    "uwv": "uwv",
    "verwijsindex": "verwijsindex",
    "dkd_reintegratie": "dkd",
    "dkd_instellingen": "dkd",
}

# re.ASCII: `\d` would also match other scripts' digits (`٢٠٢٦`), which int() reads as 2026.
_PATTERNS = {
    "uwv": re.compile(r"uwv_lks_(?P<datum>\d{8})\.csv", re.ASCII),
    "verwijsindex": re.compile(
        r"verwijsindex_(?P<gemeentecode>GM\d{4})_(?P<datum>\d{8})\.csv", re.ASCII
    ),
    "dkd_reintegratie": re.compile(
        r"dkd_reintegratie_(?P<gemeentecode>GM\d{4})_(?P<datum>\d{8})\.xml", re.ASCII
    ),
    "dkd_instellingen": re.compile(r"dkd_instellingen_(?P<datum>\d{8})\.csv", re.ASCII),
}


@dataclass(frozen=True)
class Levering:
    """One delivered file whose name matches its feed's pattern."""

    feed: str
    path: Path
    leverdatum: dt.date
    gemeentecode: str | None
    size: int
    mtime_ns: int
    ctime_ns: int = 0  # changes on create, write, rename into the folder: the sensors' clock
    inode: int = 0

    @property
    def bestand(self) -> str:
        return self.path.name

    @property
    def partition(self) -> str | None:
        """The partition this file feeds: its day (UWV), its gemeente, or none (instellingen)."""
        if self.feed == "uwv":
            return self.leverdatum.isoformat()
        return self.gemeentecode

    def changed(self) -> bool:
        """Whether the file is no longer what the scan saw: written to, replaced or removed."""
        try:
            stat = self.path.stat(follow_symlinks=False)
        except FileNotFoundError:
            return True
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns) != (
            self.inode,
            self.size,
            self.mtime_ns,
            self.ctime_ns,
        )

    def sha256(self) -> str:
        with self.path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class Unreadable:
    """An inbox entry that is not read: bad name, unknown gemeente, symlink, folder."""

    feed: str
    bestand: str
    reden: str


def parse_name(feed: str, name: str) -> tuple[dt.date, str | None] | str:
    """(leverdatum, gemeentecode) for a valid name of `feed`, else the reason it is not valid."""
    match = _PATTERNS[feed].fullmatch(name)
    if match is None:
        return "bestandsnaam past niet in het patroon van deze feed"
    digits = match["datum"]
    try:  # strptime costs ~25 µs a name: a quarter of a second for a sensor tick over 10,000
        leverdatum = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return f"datum {match['datum']} in de bestandsnaam bestaat niet"
    gemeentecode = match.groupdict().get("gemeentecode")
    if gemeentecode is not None and gemeentecode not in gemeentecodes():
        return f"gemeentecode {gemeentecode} staat niet in de CBS-lijst"
    return leverdatum, gemeentecode


def scan(inbox: Path, folders: list[str] | None = None) -> tuple[list[Levering], list[Unreadable]]:
    """Every delivery in the inbox, and every entry that will not be read.

    Deliveries are sorted by (feed, gemeentecode, leverdatum). A missing feed folder means no
    deliveries yet, not an error. `folders` limits the scan to some feed folders.
    """
    leveringen: list[Levering] = []
    onleesbaar: list[Unreadable] = []
    root = inbox.resolve()
    for folder in sorted(set(FEED_FOLDERS.values()) if folders is None else set(folders)):
        directory = inbox / folder
        if not directory.is_dir():
            continue
        feeds = [f for f, d in FEED_FOLDERS.items() if d == folder]
        # An entry that is not a symlink sits in its folder, so it is inside the inbox exactly
        # when the folder is: one resolve per folder, not per file.
        inside = directory.resolve().is_relative_to(root)
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            levering = _levering(entry, feeds, inside)
            if isinstance(levering, Levering):
                leveringen.append(levering)
            else:
                onleesbaar.append(levering)
    leveringen.sort(key=lambda lv: (lv.feed, lv.gemeentecode or "", lv.leverdatum))
    return leveringen, onleesbaar


def _levering(entry: os.DirEntry, feeds: list[str], inside: bool) -> Levering | Unreadable:
    feed_label = feeds[0] if len(feeds) == 1 else "dkd"
    if entry.is_symlink():
        return Unreadable(feed_label, entry.name, "symbolische link: wordt niet gelezen")
    if not entry.is_file(follow_symlinks=False):
        return Unreadable(feed_label, entry.name, "geen gewoon bestand")
    if not inside:
        return Unreadable(feed_label, entry.name, "verwijst naar een plek buiten de inbox")
    reden = "bestandsnaam past niet in het patroon van deze feed"
    for feed in feeds:
        parsed = parse_name(feed, entry.name)
        if isinstance(parsed, str):
            if _PATTERNS[feed].fullmatch(entry.name):
                reden = parsed
            continue
        stat = entry.stat(follow_symlinks=False)
        leverdatum, gemeentecode = parsed
        return Levering(
            feed,
            Path(entry.path),
            leverdatum,
            gemeentecode,
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ctime_ns,
            stat.st_ino,
        )
    return Unreadable(feed_label, entry.name, reden)


def fingerprint(leveringen: list[Levering]) -> str:
    """A cheap identity of a set of files (name, size, mtime): equal means nothing to redo."""
    digest = hashlib.sha256()
    for lv in sorted(leveringen, key=lambda lv: lv.bestand):
        digest.update(f"{lv.bestand}:{lv.size}:{lv.mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def fingerprint_unreadable(onleesbaar: list[Unreadable]) -> str:
    """Identity of the set of unreadable entries: equal means nothing new to record."""
    digest = hashlib.sha256()
    for entry in sorted(onleesbaar, key=lambda e: (e.feed, e.bestand)):
        digest.update(f"{entry.feed}/{entry.bestand}:{entry.reden}\n".encode())
    return digest.hexdigest()[:16]
