"""The DKD webservice (rules 4.6): ask a gemeente what it knows of some BSNs, with retries.

Pure client code, no Dagster and no warehouse. The request is a `DKDBevraging` document; the
reply is a GSDDossierReintegratie document, parsed by the same hardened, XSD-validating reader as
a verzamelbestand (`dkd.lees`), so a webservice can send nothing a file could not.

Decisions where the spec is silent:
- Timeouts, connection errors and HTTP 5xx are retried, waiting `wachttijd`, then twice that, and
  so on; a 4xx is the gemeente refusing the question and is not retried. Either way the batch is
  `onbereikbaar` after the last attempt.
- A reply must be HTTP 200. Clients for BSNs that were not asked are quarantined and not stored.
- Error texts name the URL, the status or the exception class; never a BSN (the request body is
  never echoed).
"""

import io
import time
from dataclasses import dataclass

import httpx
from lxml import etree

from lks_pipeline.ingest import bsn, dkd
from lks_pipeline.ingest.csv_file import BestandAfgewezen
from lks_pipeline.ingest.result import Gelezen, Quarantaine

BEVRAGING_NS = f"urn:lks:dkd:{dkd.HUIDIGE_BERICHTVERSIE}"


def bevraging(gemeentecode: str, bsns: list[str]) -> bytes:
    """The request body of rules 4.6 for one batch."""
    root = etree.Element(f"{{{BEVRAGING_NS}}}DKDBevraging", nsmap={None: BEVRAGING_NS})
    etree.SubElement(root, f"{{{BEVRAGING_NS}}}Gemeentecode").text = gemeentecode
    for nummer in bsns:
        etree.SubElement(root, f"{{{BEVRAGING_NS}}}BSN").text = nummer
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass
class Antwoord:
    """What one batch yielded: the parsed reply, or why there is none."""

    status: str  # ok | onbereikbaar | ongeldig
    pogingen: int
    http_status: int | None = None
    fout: str | None = None
    gelezen: Gelezen | None = None


def _herhaalbaar(response: httpx.Response) -> bool:
    return response.status_code >= 500


def vraag(
    client: httpx.Client,
    url: str,
    gemeentecode: str,
    bsns: list[str],
    *,
    pogingen: int,
    wachttijd: float,
    naam: str,
) -> Antwoord:
    """POST one batch; retry what may pass on a second try; parse and check the reply."""
    body = bevraging(gemeentecode, bsns)
    fout, status = None, None
    for poging in range(1, pogingen + 1):
        if poging > 1:
            time.sleep(wachttijd * 2 ** (poging - 2))
        try:
            response = client.post(url, content=body, headers={"Content-Type": "application/xml"})
        except httpx.TimeoutException as error:
            fout, status = f"time-out na {client.timeout.read} s ({type(error).__name__})", None
            continue
        except httpx.TransportError as error:
            fout, status = f"geen verbinding ({type(error).__name__})", None
            continue
        status = response.status_code
        if response.status_code == 200:
            return _lees_antwoord(response.content, gemeentecode, bsns, poging, naam)
        fout = f"HTTP {response.status_code}"
        if not _herhaalbaar(response):
            return Antwoord("onbereikbaar", poging, status, f"{fout} (niet herhaald)")
    return Antwoord("onbereikbaar", pogingen, status, fout)


def _lees_antwoord(
    inhoud: bytes, gemeentecode: str, bsns: list[str], poging: int, naam: str
) -> Antwoord:
    try:
        gelezen = dkd.lees(io.BytesIO(inhoud), naam, gemeentecode, bron="webservice")
    except BestandAfgewezen as rejected:
        return Antwoord("ongeldig", poging, 200, rejected.reden)
    gevraagd = set(bsns)
    clients = gelezen.tabellen["dkd_reintegratie"]
    ongevraagd = clients[~clients["bsn"].isin(gevraagd)]
    if len(ongevraagd):
        gelezen.quarantaine.extend(
            Quarantaine(
                int(r.regel), bsn.maskeer(r.bsn), "Client voor een BSN dat niet is gevraagd"
            )
            for r in ongevraagd.itertuples()
        )
        gelezen.tabellen = {
            table: rows[rows["bsn"].isin(gevraagd)].reset_index(drop=True)
            for table, rows in gelezen.tabellen.items()
        }
    return Antwoord("ok", poging, 200, None, gelezen)
