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
class Gelezen:
    """The result of reading one file of a feed.

    `tabellen` maps a warehouse table to its rows (columns as in `warehouse.py`, without the
    columns the asset adds, such as gemeentecode and leverdatum).
    """

    tabellen: dict[str, pd.DataFrame]
    quarantaine: list[Quarantaine] = field(default_factory=list)
    berichtversie: str | None = None
    aanmaakdatum: dt.date | None = None
    waarschuwingen: dict[str, int] = field(default_factory=dict)

    @property
    def regels_geladen(self) -> int:
        return len(next(iter(self.tabellen.values()))) if self.tabellen else 0
