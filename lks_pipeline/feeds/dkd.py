"""DKD re-integratieberichten (DESIGN 4.4): GSDDossierReintegratie XML, streamed.

The document is read with lxml `iterparse` and each Client is cleared once handled, so memory is
bounded by one Client, not by the file. The parser is hardened: no entity expansion, no DTD loading,
no network, and a document that declares a DOCTYPE at all is rejected before its first element is
used (entities can only be declared there, so XXE and billion-laughs never get that far).

Stuurgegevens and each Client are validated on their own against the XSD of the document's
berichtversie (its namespace). A bad Client is quarantined alone with its line; the file is
rejected whole only when it is not well-formed, has an unknown namespace or root, or its
Stuurgegevens are missing, invalid or name another gemeente. Messages never echo element content:
libxml2's validation messages quote the offending value, which may be a BSN.
"""

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import IO

import pandas as pd
from lxml import etree

from lks_pipeline.feeds import bsn
from lks_pipeline.feeds.csvbestand import BestandAfgewezen
from lks_pipeline.feeds.resultaat import Gelezen, Quarantaine
from lks_pipeline.reference_data import package_file

HUIDIGE_BERICHTVERSIE = "GSDDossierReintegratie-v0200"
BERICHTVERSIES = ("GSDDossierReintegratie-v0200", "GSDDossierReintegratie-v0100")
_NS_PREFIX = "urn:lks:dkd:"
ROOT = "GSDDossierReintegratie"

TABLE_COLUMNS = {
    "dkd_reintegratie": ["bsn", "regel"],
    "dkd_doelgroepen": ["bsn", "code", "begindatum", "einddatum"],
    "dkd_inzetten": ["bsn", "inzet_nr", "soort", "begindatum", "einddatum"],
    "dkd_loonkostensubsidies": [
        "bsn",
        "inzet_nr",
        "begindatum",
        "einddatum",
        "percentage_loonwaarde",
        "loonheffingennummer_werkgever",
    ],
}

_XSD_REASONS = {
    "SCHEMAV_CVC_PATTERN_VALID": "ongeldige waarde",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "ongeldige waarde",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "waarde buiten bereik",
    "SCHEMAV_CVC_MINEXCLUSIVE_VALID": "waarde buiten bereik",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "waarde buiten bereik",
    "SCHEMAV_CVC_MAXEXCLUSIVE_VALID": "waarde buiten bereik",
    "SCHEMAV_CVC_MINLENGTH_VALID": "waarde te kort",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "waarde te lang",
    "SCHEMAV_ELEMENT_CONTENT": "onverwacht of ontbrekend element",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": "verplicht element ontbreekt",
}


_ELEMENT_IN_MESSAGE = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z]+)'")


@cache
def _schema(berichtversie: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    xsd = etree.parse(str(package_file(f"xsd/{berichtversie}.xsd")), parser)
    return etree.XMLSchema(xsd)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _xsd_reden(schema: etree.XMLSchema, element: str) -> str:
    """A reason naming the failing element, never its value (libxml2 quotes values)."""
    error = schema.error_log.last_error
    kind = _XSD_REASONS.get(error.type_name, "voldoet niet aan de XSD") if error else "onbekend"
    match = _ELEMENT_IN_MESSAGE.match(error.message) if error else None
    return f"{element} voldoet niet aan de XSD: {kind}" + (f" bij {match[1]}" if match else "")


def _text(parent: etree._Element, ns: str, name: str) -> str | None:
    child = parent.find(f"{{{ns}}}{name}")
    return child.text if child is not None else None


def lees(
    source: Path | IO[bytes], bestand: str, gemeentecode: str, bron: str = "verzamelbestand"
) -> Gelezen:
    """Parse one GSDDossierReintegratie document of `gemeentecode`. Raises BestandAfgewezen."""
    rows: dict[str, list[tuple]] = {table: [] for table in TABLE_COLUMNS}
    quarantaine: list[Quarantaine] = []
    state = _State(bestand, gemeentecode)
    events = etree.iterparse(
        source if not isinstance(source, Path) else str(source),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for event, element in events:
            if event == "start":
                if element.getparent() is None:
                    state.root(element)
                continue
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue
            name = _local(element.tag)
            if name == "Stuurgegevens" and element.tag.startswith(f"{{{state.ns}}}"):
                state.stuurgegevens(element)
            elif name == "Client" and element.tag.startswith(f"{{{state.ns}}}"):
                state.require_stuurgegevens(element.sourceline)
                problem = state.client(element, rows)
                if problem:
                    quarantaine.append(problem)
            else:
                state.require_stuurgegevens(element.sourceline)
                quarantaine.append(
                    Quarantaine(element.sourceline, None, f"onverwacht element {name}")
                )
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as e:
        # one line, for the quarantine table and Excel: libxml2 ends some messages in a newline
        reden = "XML is niet well-formed: " + " ".join(e.msg.split()).replace(" ,", ",")
        raise BestandAfgewezen(bestand, reden, e.lineno or None) from None
    state.require_stuurgegevens(None)
    tabellen = {
        table: pd.DataFrame(values, columns=TABLE_COLUMNS[table], dtype="object")
        for table, values in rows.items()
    }
    return Gelezen(
        tabellen=tabellen,
        quarantaine=quarantaine,
        berichtversie=state.berichtversie,
        aanmaakdatum=state.aanmaakdatum,
    )


class _State:
    """What the stream has established so far: version, Stuurgegevens, BSNs seen."""

    def __init__(self, bestand: str, gemeentecode: str):
        self.bestand, self.gemeentecode = bestand, gemeentecode
        self.ns = ""
        self.berichtversie: str | None = None
        self.aanmaakdatum: dt.date | None = None
        self.seen: dict[str, int] = {}

    def reject(self, reden: str, regel: int | None) -> BestandAfgewezen:
        return BestandAfgewezen(self.bestand, reden, regel)

    def root(self, element: etree._Element) -> None:
        if element.getroottree().docinfo.doctype:
            raise self.reject("DOCTYPE/DTD is niet toegestaan", element.sourceline)
        qname = etree.QName(element.tag)
        versie = (qname.namespace or "").removeprefix(_NS_PREFIX)
        if not (qname.namespace or "").startswith(_NS_PREFIX) or versie not in BERICHTVERSIES:
            raise self.reject(
                f"onbekende namespace {qname.namespace or '(geen)'}", element.sourceline
            )
        if qname.localname != ROOT:
            raise self.reject(f"hoofdelement is {qname.localname}, niet {ROOT}", 1)
        self.ns, self.berichtversie = qname.namespace, versie

    def stuurgegevens(self, element: etree._Element) -> None:
        if self.aanmaakdatum is not None:
            raise self.reject("Stuurgegevens komen twee keer voor", element.sourceline)
        schema = _schema(self.berichtversie)
        if not schema.validate(element):
            raise self.reject(_xsd_reden(schema, "Stuurgegevens"), element.sourceline)
        code = _text(element, self.ns, "Gemeentecode")
        if code != self.gemeentecode:
            raise self.reject(
                f"Stuurgegevens noemen gemeente {code}, de bestandsnaam {self.gemeentecode}",
                element.sourceline,
            )
        self.aanmaakdatum = dt.date.fromisoformat(_text(element, self.ns, "Aanmaakdatum"))

    def require_stuurgegevens(self, regel: int | None) -> None:
        if self.aanmaakdatum is None:
            raise self.reject("Stuurgegevens ontbreken of staan niet vooraan", regel)

    def client(self, element: etree._Element, rows: dict[str, list[tuple]]) -> Quarantaine | None:
        regel = element.sourceline
        nummer = _text(element, self.ns, "BSN")
        masked = bsn.maskeer(nummer)
        schema = _schema(self.berichtversie)
        if not schema.validate(element):
            return Quarantaine(regel, masked, _xsd_reden(schema, "Client"))
        if not bsn.is_geldig(nummer):
            return Quarantaine(regel, masked, "BSN: geen geldig BSN (elfproef)")
        if nummer in self.seen:
            return Quarantaine(regel, masked, f"BSN komt eerder voor (regel {self.seen[nummer]})")
        ns = self.ns
        doelgroepen, inzetten, subsidies = [], [], []
        for doelgroep in element.iterfind(f"{{{ns}}}Doelgroep"):
            periode = _periode(doelgroep, ns)
            if periode is None:
                return Quarantaine(regel, masked, "Doelgroep: Einddatum ligt voor Begindatum")
            doelgroepen.append((nummer, _text(doelgroep, ns, "Code"), *periode))
        for inzet_nr, inzet in enumerate(element.iterfind(f"{{{ns}}}ReintegratieInzet"), 1):
            periode = _periode(inzet, ns)
            if periode is None:
                return Quarantaine(
                    regel, masked, "ReintegratieInzet: Einddatum ligt voor Begindatum"
                )
            inzetten.append((nummer, inzet_nr, _text(inzet, ns, "Soort"), *periode))
            lks = inzet.find(f"{{{ns}}}Loonkostensubsidie")
            if lks is None:
                continue
            periode = _periode(lks, ns)
            if periode is None:
                return Quarantaine(
                    regel, masked, "Loonkostensubsidie: Einddatum ligt voor Begindatum"
                )
            subsidies.append(
                (
                    nummer,
                    inzet_nr,
                    *periode,
                    _text(lks, ns, "PercentageLoonwaarde"),
                    _text(lks, ns, "LoonheffingennummerWerkgever"),
                )
            )
        self.seen[nummer] = regel
        rows["dkd_reintegratie"].append((nummer, regel))
        rows["dkd_doelgroepen"] += doelgroepen
        rows["dkd_inzetten"] += inzetten
        rows["dkd_loonkostensubsidies"] += subsidies
        return None


def _periode(element: etree._Element, ns: str) -> tuple[str, str | None] | None:
    """(begindatum, einddatum) as validated ISO text, or None when the end precedes the begin."""
    begin, end = _text(element, ns, "Begindatum"), _text(element, ns, "Einddatum")
    if end is not None and dt.date.fromisoformat(end) < dt.date.fromisoformat(begin):
        return None
    return begin, end
