"""The three CSV feeds: UWV events (4.1), verwijsindex (4.2) and DKD instellingen (4.5)."""

import pandas as pd
import pandera.pandas as pa

from lks_pipeline.ingest import bsn, csv_file, schemas
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.result import Gelezen, Quarantaine


def _lees(
    levering: Levering, kolommen: tuple[str, ...], schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame, list[Quarantaine]]:
    inhoud = csv_file.lees(levering.path, kolommen)
    rows = inhoud.rows[list(kolommen)]
    redenen = schemas.fouten_per_regel(rows, schema)
    quarantaine = [Quarantaine(regel, None, reden) for regel, reden in inhoud.afgekeurd]
    quarantaine += [
        Quarantaine(
            int(regel), bsn.maskeer(rows.at[regel, "bsn"]) if "bsn" in rows else None, reden
        )
        for regel, reden in redenen.items()
    ]
    quarantaine.sort(key=lambda q: q.regel or 0)
    goed = rows.drop(index=redenen.index).reset_index()
    return goed, quarantaine


def lees_uwv(levering: Levering) -> Gelezen:
    """Events of one delivery day; `loonheffingennummer_geldig` flags the pattern warning."""
    goed, quarantaine = _lees(
        levering, schemas.UWV_KOLOMMEN, schemas.uwv_schema(levering.leverdatum)
    )
    lhn = goed["loonheffingennummer"]
    geldig = lhn.str.fullmatch(schemas.LOONHEFFINGENNUMMER.pattern, na=False)
    goed["loonheffingennummer_geldig"] = geldig.where(lhn.notna(), None)
    warnings = int((lhn.notna() & ~geldig).sum())
    return Gelezen(
        {"uwv_events": goed},
        quarantaine,
        waarschuwingen={"loonheffingennummer afwijkend": warnings} if warnings else {},
    )


def lees_verwijsindex(levering: Levering) -> Gelezen:
    """A full snapshot of one gemeente's verwijsindex."""
    goed, quarantaine = _lees(
        levering, schemas.VERWIJSINDEX_KOLOMMEN, schemas.verwijsindex_schema()
    )
    return Gelezen({"verwijsindex": goed.drop(columns="regel")}, quarantaine)


def lees_instellingen(levering: Levering) -> Gelezen:
    """A full national snapshot of the Reintegratie cluster settings."""
    goed, quarantaine = _lees(
        levering, schemas.INSTELLINGEN_KOLOMMEN, schemas.instellingen_schema()
    )
    return Gelezen({"dkd_instellingen": goed.drop(columns="regel")}, quarantaine)
