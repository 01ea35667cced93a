"""What reading one delivered file yields: the good rows and the quarantine, never half."""

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Quarantaine:
    """One rejected row, Client or whole file. `regel` is None for a whole-file rejection."""

    regel: int | None
    bsn_gemaskeerd: str | None
    reden: str


@dataclass
class ReadResult:
    """The result of reading one file of a feed.

    `tables` maps a warehouse table to its rows (columns as in `warehouse.py`, without the
    columns the asset adds, such as gemeentecode and leverdatum).
    """

    tables: dict[str, pd.DataFrame]
    quarantaine: list[Quarantaine] = field(default_factory=list)
    berichtversie: str | None = None
    aanmaakdatum: dt.date | None = None
    warning_counts: dict[str, int] = field(default_factory=dict)

    @property
    def regels_geladen(self) -> int:
        return len(next(iter(self.tables.values()))) if self.tables else 0


QUARANTAINE_COLUMNS = [
    "feed",
    "bestand",
    "gemeentecode",
    "leverdatum",
    "regel",
    "bsn_gemaskeerd",
    "reden",
]


def quarantaine_rows(
    feed: str,
    bestand: str,
    gemeentecode: str | None,
    leverdatum: dt.date | None,
    quarantaine: list[Quarantaine],
) -> pd.DataFrame:
    """The `quarantaine` rows of one file (or webservice reply): masked BSNs only."""
    return pd.DataFrame(
        [
            {
                "feed": feed,
                "bestand": bestand,
                "gemeentecode": gemeentecode,
                "leverdatum": leverdatum,
                "regel": q.regel,
                "bsn_gemaskeerd": q.bsn_gemaskeerd,
                "reden": q.reden,
            }
            for q in quarantaine
        ],
        columns=QUARANTAINE_COLUMNS,
    )
