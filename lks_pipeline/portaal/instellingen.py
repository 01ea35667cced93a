"""DKD instellingen (rules 8.2, 4.5): a gemeente's settings, saved as a national snapshot.

The pipeline knows instellingen only as national snapshots (`inbox/dkd/dkd_instellingen_
JJJJMMDD.csv`, every gemeente's row). Saving one gemeente's row therefore writes a new snapshot
dated today: every gemeente's current row, this one changed. Under one lock, the base is read and
the new file written, so two gemeenten saving at the same moment both keep their change: the
second save reads the first one's file.

The base is the newest snapshot the pipeline would accept: the newest file in the inbox that
the ingest's own reader does not reject whole, or, when the warehouse (the analysts' copy) holds
a newer one (older files may have been archived), the warehouse's current rows. Rows the reader
quarantines are not carried over: the pipeline never loaded them either.

A row is checked by the ingest's schema (4.5), and as the aanleverfouten would judge it (6.3): a
webservice url is https and ends with `/` + its berichtversie. An outdated berichtversie is
saved, with a warning, because it is still a version gemeenten deliver.
"""

import csv
import datetime as dt
import fcntl
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from lks_pipeline.core.files import private_folder
from lks_pipeline.ingest import csv_feeds, schemas
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline.ingest.dkd import CURRENT_BERICHTVERSIE
from lks_pipeline.ingest.inbox import Levering, parse_name
from lks_pipeline.portaal import bronnen
from lks_pipeline.portaal.aanleveren import naar_inbox

FEED = "dkd_instellingen"


@dataclass(frozen=True)
class Instelling:
    """One gemeente's row of the Reintegratie cluster settings (None = empty field)."""

    aanlevermethode: str
    berichtversie: str
    url: str | None
    leverfrequentie: str | None
    notificatie_email: str | None


class Geweigerd(ValueError):
    """The settings cannot be saved; the message says why, in Dutch."""


def fouten(instelling: Instelling, gemeentecode: str) -> list[str]:
    """Why the pipeline would quarantine this row or report it as an aanleverfout; [] if fine."""
    row = pd.DataFrame(
        [{"gemeentecode": gemeentecode, **asdict(instelling)}],
        columns=list(schemas.INSTELLINGEN_COLUMNS),
        dtype="object",
    )
    reasons = schemas.errors_per_line(row, schemas.instellingen_schema())
    result = reasons.iloc[0].split("; ") if len(reasons) else []
    if instelling.aanlevermethode == "webservice" and instelling.url:
        if not instelling.url.startswith("https://"):
            result.append("url: een webservice-url begint met https://")
        if not instelling.url.endswith("/" + instelling.berichtversie):
            result.append(f"url: eindigt niet op /{instelling.berichtversie}, de berichtversie")
    return result


def waarschuwingen(instelling: Instelling) -> list[str]:
    """What is saved but will be reported as an aanleverfout (an outdated berichtversie)."""
    if instelling.berichtversie != CURRENT_BERICHTVERSIE:
        return [
            f"Berichtversie {instelling.berichtversie} is verouderd: dit wordt gemeld als "
            f"aanleverfout tot u {CURRENT_BERICHTVERSIE} aanlevert."
        ]
    return []


def huidige(inbox: Path, analyse: Path, gemeentecode: str) -> Instelling | None:
    """The gemeente's row of the newest snapshot, or None when it has none."""
    return _basis(inbox, analyse)[1].get(gemeentecode)


def sla_op(
    inbox: Path, analyse: Path, lock: Path, gemeentecode: str, nieuw: Instelling, dag: dt.date
) -> Instelling | None:
    """Write today's snapshot with the gemeente's new row; returns its previous row."""
    if problemen := fouten(nieuw, gemeentecode):
        raise Geweigerd("; ".join(problemen))
    with _locked(lock):
        datum, rijen = _basis(inbox, analyse)
        if datum is not None and datum > dag:
            raise Geweigerd(
                f"er staat al een momentopname van {datum:%d-%m-%Y} klaar, na vandaag; "
                "neem contact op met het Inlichtingenbureau"
            )
        oud = rijen.get(gemeentecode)
        rijen[gemeentecode] = nieuw
        naam = f"dkd_instellingen_{dag:%Y%m%d}.csv"
        naar_inbox(_csv(rijen), inbox / "dkd", naam, lock.parent)
    return oud


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    private_folder(lock.parent)
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _basis(inbox: Path, analyse: Path) -> tuple[dt.date | None, dict[str, Instelling]]:
    """(date, rows) of the newest snapshot the pipeline would accept: inbox or warehouse."""
    datum, rijen = bronnen.instellingen(analyse)
    for pad, dag in _snapshots(inbox):
        if datum is not None and dag < datum:
            break
        try:
            good = csv_feeds.read_instellingen(Levering(FEED, pad, dag, None, 0, 0))
        except FileRejected:
            continue
        frame = good.tables[FEED].astype(object).where(good.tables[FEED].notna(), None)
        names = [f.name for f in fields(Instelling)]
        return dag, {r["gemeentecode"]: Instelling(*(r[n] for n in names)) for r in
                     frame.to_dict("records")}  # fmt: skip
    return datum, {code: Instelling(*row) for code, row in rijen.items()}


def _snapshots(inbox: Path) -> list[tuple[Path, dt.date]]:
    """The inbox's instellingen files, newest first."""
    folder = inbox / "dkd"
    found = []
    for pad in folder.glob("dkd_instellingen_*.csv") if folder.is_dir() else []:
        parsed = parse_name(FEED, pad.name)
        if not isinstance(parsed, str) and pad.is_file() and not pad.is_symlink():
            found.append((pad, parsed[0]))
    return sorted(found, key=lambda item: item[1], reverse=True)


def _csv(rijen: dict[str, Instelling]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(schemas.INSTELLINGEN_COLUMNS)
    for code in sorted(rijen):
        writer.writerow([code, *(v or "" for v in asdict(rijen[code]).values())])
    return out.getvalue().encode()
