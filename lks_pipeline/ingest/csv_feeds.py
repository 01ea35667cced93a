"""The three CSV feeds: UWV events (4.1), verwijsindex (4.2) and DKD instellingen (4.5)."""

import pandas as pd
import pandera.pandas as pa

from lks_pipeline.ingest import bsn, csv_file, schemas
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.result import Quarantaine, ReadResult


def _read(
    levering: Levering, columns: tuple[str, ...], schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame, list[Quarantaine]]:
    content = csv_file.read(levering.path, columns)
    rows = content.rows[list(columns)]
    reasons = schemas.errors_per_line(rows, schema)
    quarantaine = [Quarantaine(regel, None, reden) for regel, reden in content.rejected]
    quarantaine += [
        Quarantaine(int(regel), bsn.mask(rows.at[regel, "bsn"]) if "bsn" in rows else None, reden)
        for regel, reden in reasons.items()
    ]
    quarantaine.sort(key=lambda q: q.regel or 0)
    good = rows.drop(index=reasons.index).reset_index()
    return good, quarantaine


def read_uwv(levering: Levering) -> ReadResult:
    """Events of one delivery day; `loonheffingennummer_geldig` flags the pattern warning."""
    good, quarantaine = _read(
        levering, schemas.UWV_COLUMNS, schemas.uwv_schema(levering.leverdatum)
    )
    lhn = good["loonheffingennummer"]
    valid = lhn.str.fullmatch(schemas.LOONHEFFINGENNUMMER.pattern, na=False)
    good["loonheffingennummer_geldig"] = valid.where(lhn.notna(), None)
    warnings = int((lhn.notna() & ~valid).sum())
    return ReadResult(
        {"uwv_events": good},
        quarantaine,
        warning_counts={"loonheffingennummer afwijkend": warnings} if warnings else {},
    )


def read_verwijsindex(levering: Levering) -> ReadResult:
    """A full snapshot of one gemeente's verwijsindex."""
    good, quarantaine = _read(levering, schemas.VERWIJSINDEX_COLUMNS, schemas.verwijsindex_schema())
    return ReadResult({"verwijsindex": good.drop(columns="regel")}, quarantaine)


def read_instellingen(levering: Levering) -> ReadResult:
    """A full national snapshot of the Reintegratie cluster settings."""
    good, quarantaine = _read(levering, schemas.INSTELLINGEN_COLUMNS, schemas.instellingen_schema())
    return ReadResult({"dkd_instellingen": good.drop(columns="regel")}, quarantaine)
