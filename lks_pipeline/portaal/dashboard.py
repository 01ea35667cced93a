"""The dashboard's delivery rows (rules 8.2): per feed the last accepted delivery and the next.

Pure: the same terms the DKD-aanleverfouten use (rules 6.3), so the dashboard never says a
delivery is due when the aanleverfouten do not, or the other way round. A verwijsindex is
expected before it is `verwijsindex_max_dagen` old; a DKD verzamelbestand within its
leverfrequentie (7 or 31 days) plus the grace; a webservice gemeente sends no file.
A row is open (the orange "!") when its delivery is due within a week or overdue: the seeds'
"de deelnamedatum nadert en/of het Inlichtingenbureau verwacht nog een aanlevering".
"""

import datetime as dt
from dataclasses import dataclass

from lks_pipeline.aanleverfouten.drempels import TERMIJN_DAGEN
from lks_pipeline.portaal.bronnen import Stand

NADERT = dt.timedelta(days=7)


@dataclass(frozen=True)
class Verwachting:
    """One row of the dashboard's delivery table."""

    feed: str
    laatste: dt.date | None
    volgende: str
    open: bool


def verwachtingen(
    stand: Stand, vandaag: dt.date, vi_max_dagen: int, marge: int
) -> list[Verwachting]:
    """The verwijsindex row, and the DKD row of how the gemeente delivers."""
    vi = stand.laatste.get("verwijsindex")
    rows = [_uiterlijk("Verwijsindex", vi, vi_max_dagen, vandaag)]
    dkd = stand.laatste.get("dkd_reintegratie")
    if stand.aanlevermethode == "webservice":
        rows.append(
            Verwachting(
                "DKD re-integratie (webservice)", dkd, "geen bestand: via uw webservice", False
            )
        )
    elif stand.aanlevermethode is None:
        rows.append(Verwachting("DKD re-integratie", dkd, "onbekend: geen DKD instellingen", True))
    else:
        termijn = TERMIJN_DAGEN.get(stand.leverfrequentie or "", 31) + marge
        rows.append(_uiterlijk("DKD verzamelbestand", dkd, termijn, vandaag))
    return rows


def _uiterlijk(feed: str, laatste: dt.date | None, dagen: int, vandaag: dt.date) -> Verwachting:
    if laatste is None:
        return Verwachting(feed, None, "nu: nog nooit ontvangen", True)
    volgende = laatste + dt.timedelta(days=dagen)
    return Verwachting(
        feed, laatste, f"uiterlijk {volgende:%d-%m-%Y}", volgende - vandaag <= NADERT
    )
