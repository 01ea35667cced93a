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
from dataclasses import dataclass

import httpx
import tenacity
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


class _Transient(Exception):
    """A failure that may pass on a next try: a time-out, no connection, an HTTP 5xx."""

    def __init__(self, fout: str, status: int | None):
        super().__init__(fout)
        self.fout, self.status = fout, status


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
    """POST one batch; retry what may pass on a second try; parse and check the reply.

    Retries by tenacity: at most `pogingen` tries, waiting `backoff`, then twice as long each
    time; an HTTP 4xx is not retried (the same request gets the same answer).
    """
    body = bevraging(gemeentecode, bsns)
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(pogingen),
        wait=tenacity.wait_exponential(multiplier=backoff),
        retry=tenacity.retry_if_exception_type(_Transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                answer = _post(client, url, body, gemeentecode, bsns, name, attempt.retry_state)
    except _Transient as failure:
        return Answer("onbereikbaar", pogingen, failure.status, failure.fout)
    return answer


def _post(client, url, body, gemeentecode, bsns, name, state: tenacity.RetryCallState) -> Answer:
    """One try; raises `_Transient` for what a next try may fix."""
    number = state.attempt_number
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/xml"})
    except httpx.TimeoutException as error:
        fout = f"time-out na {client.timeout.read} s ({type(error).__name__})"
        raise _Transient(fout, None) from None
    except httpx.TransportError as error:
        raise _Transient(f"geen verbinding ({type(error).__name__})", None) from None
    if response.status_code == 200:
        return _read_answer(response.content, gemeentecode, bsns, number, name)
    fout = f"HTTP {response.status_code}"
    if _retryable(response):
        raise _Transient(fout, response.status_code)
    return Answer("onbereikbaar", number, response.status_code, f"{fout} (niet herhaald)")


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
