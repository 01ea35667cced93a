"""Aanleveren (rules 8.2): a gemeente's file, checked at once and placed in the inbox.

An upload streams to a private staging file under the data root (`Ontvangst`), never into
memory, and stops at `LKS_PORTAAL_MAX_UPLOAD_MB`. It is then read by the very readers the ingest
uses (`ingest.leveringen.read_file` with the feed's reader), under its canonical name: the
user's gemeentecode and today's date, never the name it was uploaded with. A file-level
rejection leaves the inbox as it was; an accepted file is renamed into the inbox, so the
pipeline sees the whole file or nothing. The quarantine the page shows is the one the
pipeline will record, because it comes from the same code.

Decisions where the spec is silent:
- A second upload of the same kind on the same day replaces the first (the name is the same);
  the page says so. The pipeline reads the new bytes, as for any replaced delivery.
- The staging folder (`portaal/ontvangst/`) and the inbox sit under one data root, on one file
  system, so the rename is atomic; a deployment that splits them is refused with that reason.
"""

import datetime as dt
import errno
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from lks_pipeline.core.files import private_folder, sync_folder
from lks_pipeline.ingest import csv_feeds, dkd
from lks_pipeline.ingest.inbox import FEED_FOLDERS, Levering
from lks_pipeline.ingest.leveringen import Reader, read_file
from lks_pipeline.ingest.result import Quarantaine

TE_GROOT = "upload_te_groot"
GETOOND = 20  # quarantined rows shown on the page; the count covers all


def inbox() -> Path:
    """The inbox under the portal's data root (rules 3)."""
    return Path(settings.DATA_ROOT) / "inbox"


@dataclass(frozen=True)
class Soort:
    """A kind of file a gemeente delivers through the portal."""

    label: str
    feed: str
    naam: str  # the canonical file name, with {gemeentecode} and {datum}
    reader: Reader

    def bestand(self, gemeentecode: str, dag: dt.date) -> str:
        return self.naam.format(gemeentecode=gemeentecode, datum=f"{dag:%Y%m%d}")


SOORTEN = {
    "verwijsindex": Soort(
        "Verwijsindex",
        "verwijsindex",
        "verwijsindex_{gemeentecode}_{datum}.csv",
        csv_feeds.read_verwijsindex,
    ),
    "dkd": Soort(
        "DKD verzamelbestand",
        "dkd_reintegratie",
        "dkd_reintegratie_{gemeentecode}_{datum}.xml",
        dkd.read_levering,
    ),
}


class Ontvangen(UploadedFile):
    """A staged upload: a private file under the data root, removed unless it was placed."""

    def __init__(self, path: str, name: str, size: int, content_type: str | None):
        super().__init__(open(path, "rb"), name, content_type, size)  # noqa: SIM115
        self.path = path
        self.folder: Path | None = None  # the checked copy's own folder (`controleer`)

    def temporary_file_path(self) -> str:
        return self.path

    def close(self) -> None:
        super().close()
        Path(self.path).unlink(missing_ok=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


class Ontvangst(FileUploadHandler):
    """Streams each uploaded file to the staging folder, and refuses one above the cap."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        folder = private_folder(Path(settings.DATA_ROOT) / "portaal" / "ontvangst")
        fd, self.path = tempfile.mkstemp(dir=folder, suffix=".upload")
        self.file = os.fdopen(fd, "wb")
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > settings.MAX_UPLOAD_BYTES:
            self.file.close()
            Path(self.path).unlink(missing_ok=True)
            setattr(self.request, TE_GROOT, True)
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> Ontvangen:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return Ontvangen(self.path, self.file_name, file_size, self.content_type)

    def upload_interrupted(self) -> None:
        if getattr(self, "file", None) is not None and not self.file.closed:
            self.file.close()
            Path(self.path).unlink(missing_ok=True)


@dataclass
class Controle:
    """What the ingest will make of a delivered file: rejected whole, or rows and quarantine."""

    soort: Soort
    bestand: str
    sha256: str
    grootte: int
    reden: str | None = None
    regel: int | None = None
    regels: int = 0
    quarantaine: list[Quarantaine] = field(default_factory=list)
    pad: Path | None = None  # the checked file, under its canonical name

    @property
    def afgewezen(self) -> bool:
        return self.reden is not None

    @property
    def redenen(self) -> list[tuple[str, int]]:
        """Each quarantine reason with the number of rows it holds, most frequent first."""
        counts = Counter(q.reden for q in self.quarantaine)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def voorbeelden(self) -> list[Quarantaine]:
        return self.quarantaine[:GETOOND]


def controleer(upload: Ontvangen, soort: Soort, gemeentecode: str, dag: dt.date) -> Controle:
    """Read the staged upload as the ingest will read it, under its canonical name."""
    bestand = soort.bestand(gemeentecode, dag)
    folder = Path(tempfile.mkdtemp(dir=Path(upload.path).parent))
    pad = folder / bestand
    os.replace(upload.path, pad)
    upload.path, upload.folder = str(pad), folder  # closing the upload removes both
    stat = pad.stat()
    levering = Levering(soort.feed, pad, dag, gemeentecode, stat.st_size, stat.st_mtime_ns)
    read = read_file(levering, levering.sha256(), soort.reader)
    controle = Controle(soort, bestand, read.sha256, stat.st_size, pad=pad)
    if read.afgewezen is not None:
        controle.reden, controle.regel = read.afgewezen.reden, read.afgewezen.regel
    else:
        controle.regels = read.parsed.regels_geladen
        controle.quarantaine = read.quarantaine
    return controle


def plaats(controle: Controle, inbox: Path) -> bool:
    """Rename the accepted file into the inbox; True when it replaced one of the same name."""
    folder = inbox / FEED_FOLDERS[controle.soort.feed]
    return naar_inbox(controle.pad, folder, controle.bestand, controle.pad.parent)


def naar_inbox(bron: Path | bytes, folder: Path, naam: str, staging: Path) -> bool:
    """Rename `bron` (a staged file, or bytes staged first) into `folder` as `naam`.

    The inbox never holds a half-written file or a temp file of ours: a sensor would record
    either. True when a file of that name was replaced.
    """
    if isinstance(bron, bytes):
        fd, temp = tempfile.mkstemp(dir=private_folder(staging), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(bron)
            f.flush()
            os.fsync(f.fileno())
        bron = Path(temp)
    doel = private_folder(folder) / naam
    vervangen = doel.exists()
    try:
        os.replace(bron, doel)
    except OSError as error:
        Path(bron).unlink(missing_ok=True)
        if error.errno == errno.EXDEV:
            raise RuntimeError(
                f"{folder} ligt op een ander bestandssysteem dan {staging}: "
                "leg portaal/ en inbox/ onder één data root"
            ) from error
        raise
    sync_folder(folder)
    return vervangen
