"""The DKD webservice (rules 4.6): ask a gemeente what it knows of some BSNs, with retries.

Pure client code, no Dagster and no warehouse. The request is a `DKDBevraging` document; the
reply is a GSDDossierReintegratie document, parsed by the same hardened, XSD-validating reader as
a verzamelbestand (`dkd.read`), so a webservice can send nothing a file could not.

Decisions where the spec is silent:
- Timeouts, connection errors and HTTP 5xx are retried, waiting `backoff`, then twice that, and
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
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline.ingest.result import Quarantaine, ReadResult

BEVRAGING_NS = f"urn:lks:dkd:{dkd.CURRENT_BERICHTVERSIE}"


def bevraging(gemeentecode: str, bsns: list[str]) -> bytes:
    """The request body of rules 4.6 for one batch."""
    root = etree.Element(f"{{{BEVRAGING_NS}}}DKDBevraging", nsmap={None: BEVRAGING_NS})
    etree.SubElement(root, f"{{{BEVRAGING_NS}}}Gemeentecode").text = gemeentecode
    for number in bsns:
        etree.SubElement(root, f"{{{BEVRAGING_NS}}}BSN").text = number
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass
class Answer:
    """What one batch yielded: the parsed reply, or why there is none."""

    status: str  # ok | onbereikbaar | ongeldig
    pogingen: int
    http_status: int | None = None
    fout: str | None = None
    parsed: ReadResult | None = None


def _retryable(response: httpx.Response) -> bool:
    return response.status_code >= 500


def ask(
    client: httpx.Client,
    url: str,
    gemeentecode: str,
    bsns: list[str],
    *,
    pogingen: int,
    backoff: float,
    name: str,
) -> Answer:
    """POST one batch; retry what may pass on a second try; parse and check the reply."""
    body = bevraging(gemeentecode, bsns)
    fout, status = None, None
    for attempt in range(1, pogingen + 1):
        if attempt > 1:
            time.sleep(backoff * 2 ** (attempt - 2))
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
            return _read_answer(response.content, gemeentecode, bsns, attempt, name)
        fout = f"HTTP {response.status_code}"
        if not _retryable(response):
            return Answer("onbereikbaar", attempt, status, f"{fout} (niet herhaald)")
    return Answer("onbereikbaar", pogingen, status, fout)


def _read_answer(
    content: bytes, gemeentecode: str, bsns: list[str], attempt: int, name: str
) -> Answer:
    try:
        parsed = dkd.read(io.BytesIO(content), name, gemeentecode, bron="webservice")
    except FileRejected as rejected:
        return Answer("ongeldig", attempt, 200, rejected.reden)
    gevraagd = set(bsns)
    clients = parsed.tables["dkd_reintegratie"]
    ongevraagd = clients[~clients["bsn"].isin(gevraagd)]
    if len(ongevraagd):
        parsed.quarantaine.extend(
            Quarantaine(int(r.regel), bsn.mask(r.bsn), "Client voor een BSN dat niet is gevraagd")
            for r in ongevraagd.itertuples()
        )
        parsed.tables = {
            table: rows[rows["bsn"].isin(gevraagd)].reset_index(drop=True)
            for table, rows in parsed.tables.items()
        }
    return Answer("ok", attempt, 200, None, parsed)
