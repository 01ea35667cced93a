"""DKD re-integratieberichten (rules 4.4): GSDDossierReintegratie XML, streamed.

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
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
from lxml import etree

from lks_pipeline.core.files import package_file
from lks_pipeline.ingest import bsn
from lks_pipeline.ingest.csv_file import FileRejected
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.result import Quarantaine, ReadResult

CURRENT_BERICHTVERSIE = "GSDDossierReintegratie-v0200"
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
    xsd = etree.parse(str(package_file(__package__, f"xsd/{berichtversie}.xsd")), parser)
    return etree.XMLSchema(xsd)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _xsd_reason(schema: etree.XMLSchema, element: str) -> str:
    """A reason naming the failing element, never its value (libxml2 quotes values)."""
    error = schema.error_log.last_error
    kind = _XSD_REASONS.get(error.type_name, "voldoet niet aan de XSD") if error else "onbekend"
    match = _ELEMENT_IN_MESSAGE.match(error.message) if error else None
    return f"{element} voldoet niet aan de XSD: {kind}" + (f" bij {match[1]}" if match else "")


def _text(parent: etree._Element, ns: str, name: str) -> str | None:
    child = parent.find(f"{{{ns}}}{name}")
    return child.text if child is not None else None


def read_levering(levering: Levering) -> ReadResult:
    """One delivered verzamelbestand, as the ingest and the portal's Aanleveren read it."""
    return read(levering.path, levering.bestand, levering.gemeentecode)


def read(
    source: Path | IO[bytes], bestand: str, gemeentecode: str, bron: str = "verzamelbestand"
) -> ReadResult:
    """Parse one GSDDossierReintegratie document of `gemeentecode`. Raises BestandAfgewezen.

    libxml2 reports only the ends of Stuurgegevens and Client elements to Python (the `tag`
    filter), so Python touches each Client once, not each of its ~40 elements twice: that is
    most of the difference with a loop over every element. Anything else at the top level is
    found as what lies between two of those, and quarantined in document order.
    """
    with _without_gc():
        return _read(source, bestand, gemeentecode)


@contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document streams.

    Parsing allocates millions of short-lived tuples and strings, none in a reference cycle
    (reference counting frees them), yet each allocation burst triggers a collection that walks
    every live object: 20% of a national file's parse time. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(source: Path | IO[bytes], bestand: str, gemeentecode: str) -> ReadResult:
    rows = {table: _Table(columns) for table, columns in TABLE_COLUMNS.items()}
    quarantaine: list[Quarantaine] = []
    state = _State(bestand, gemeentecode)
    try:
        # The root (and any DOCTYPE) is judged before a single Client is parsed.
        state.root(next(_iterparse(source, events=("start",)))[1])
        if not isinstance(source, Path):
            source.seek(0)
        events = _iterparse(source, events=("end",), tag=("{*}Stuurgegevens", "{*}Client"))
        root = None
        for _, element in events:
            if root is None:
                root = element.getroottree().getroot()
            if element.getparent() is not root:
                continue  # inside another element: judged with its top-level ancestor
            if root[0] is not element:
                state.unexpected(root, element, quarantaine)
            tag = element.tag
            if tag == state.client_tag:
                state.require_stuurgegevens(element.sourceline)
                problem = state.client(element, rows)
                if problem:
                    quarantaine.append(problem)
            elif tag == state.stuurgegevens_tag:
                state.stuurgegevens(element)
            else:  # a Stuurgegevens or Client of another namespace
                state.require_stuurgegevens(element.sourceline)
                quarantaine.append(state.foreign(element))
            element.clear(keep_tail=False)
            root.remove(element)
    except etree.XMLSyntaxError as e:
        # one line, for the quarantine table and Excel: libxml2 ends some messages in a newline
        reden = "XML is niet well-formed: " + " ".join(e.msg.split()).replace(" ,", ",")
        raise FileRejected(bestand, reden, e.lineno or None) from None
    state.unexpected(events.root, None, quarantaine)
    state.require_stuurgegevens(None)
    return ReadResult(
        tables={table: tabel.frame() for table, tabel in rows.items()},
        quarantaine=quarantaine,
        berichtversie=state.berichtversie,
        aanmaakdatum=state.aanmaakdatum,
    )


class _Table:
    """One table's rows: tuples while a batch fills, then compact Arrow columns.

    A national file has over a million rows; as Python tuples of str they would cost ~400 MB,
    as Arrow string columns a tenth of that. The frame is Arrow-backed (`pd.ArrowDtype`), which
    DuckDB scans without a copy through pandas. Small batches keep the tuples short-lived: with
    2,000 rows a batch the largest national file peaks at ~435 MB for the whole process, with
    50,000 at ~500 MB, and it parses faster (the tuples stay in cache).
    """

    BATCH = 2_000

    def __init__(self, columns: list[str]):
        self.schema = pa.schema(
            [(c, pa.int64() if c in ("regel", "inzet_nr") else pa.string()) for c in columns]
        )
        self.rows: list[tuple] = []
        self.batches: list[pa.RecordBatch] = []

    def add(self, rows: list[tuple]) -> None:
        self.rows += rows
        if len(self.rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            columns = zip(*self.rows, strict=True)
            self.batches.append(pa.record_batch(list(columns), schema=self.schema))
            self.rows = []

    def frame(self) -> pd.DataFrame:
        self._flush()
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        self.batches = []
        return table.to_pandas(types_mapper=pd.ArrowDtype)


def _iterparse(source: Path | IO[bytes], **kwargs) -> etree.iterparse:
    """A hardened parser: no entities, DTD or network; comments and PIs dropped."""
    return etree.iterparse(
        source if not isinstance(source, Path) else str(source),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        **kwargs,
    )


class _State:
    """What the stream has established so far: version, Stuurgegevens, BSNs seen."""

    def __init__(self, bestand: str, gemeentecode: str):
        self.bestand, self.gemeentecode = bestand, gemeentecode
        self.ns = ""
        self.berichtversie: str | None = None
        self.aanmaakdatum: dt.date | None = None
        self.seen: dict[str, int] = {}

    def reject(self, reden: str, regel: int | None) -> FileRejected:
        return FileRejected(self.bestand, reden, regel)

    def root(self, element: etree._Element) -> None:
        """Judge the root element: no DOCTYPE, a known namespace, the right name."""
        if element.getroottree().docinfo.doctype:
            raise self.reject("DOCTYPE/DTD is niet toegestaan", element.sourceline)
        qname = etree.QName(element.tag)
        version = (qname.namespace or "").removeprefix(_NS_PREFIX)
        if not (qname.namespace or "").startswith(_NS_PREFIX) or version not in BERICHTVERSIES:
            raise self.reject(
                f"onbekende namespace {qname.namespace or '(geen)'}", element.sourceline
            )
        if qname.localname != ROOT:
            raise self.reject(f"hoofdelement is {qname.localname}, niet {ROOT}", 1)
        self.ns, self.berichtversie = qname.namespace, version
        self._tags = {
            name: f"{{{self.ns}}}{name}"
            for name in (
                "Stuurgegevens",
                "Client",
                "BSN",
                "Doelgroep",
                "ReintegratieInzet",
                "Loonkostensubsidie",
                "Code",
                "Soort",
                "Begindatum",
                "Einddatum",
                "PercentageLoonwaarde",
                "LoonheffingennummerWerkgever",
            )
        }
        self.stuurgegevens_tag, self.client_tag = self._tags["Stuurgegevens"], self._tags["Client"]

    def unexpected(
        self, root: etree._Element, tot: etree._Element | None, quarantaine: list[Quarantaine]
    ) -> None:
        """Quarantine (and drop) the top-level elements before `tot` (None: all that are left).

        Handled elements are removed as they are handled, so whatever precedes `tot` is neither
        a Stuurgegevens nor a Client of the document's namespace.
        """
        while len(root) and root[0] is not tot:
            element = root[0]
            self.require_stuurgegevens(element.sourceline)
            quarantaine.append(self.foreign(element))
            root.remove(element)

    def foreign(self, element: etree._Element) -> Quarantaine:
        return Quarantaine(element.sourceline, None, f"onverwacht element {_local(element.tag)}")

    def stuurgegevens(self, element: etree._Element) -> None:
        if self.aanmaakdatum is not None:
            raise self.reject("Stuurgegevens komen twee keer voor", element.sourceline)
        schema = _schema(self.berichtversie)
        if not schema.validate(element):
            raise self.reject(_xsd_reason(schema, "Stuurgegevens"), element.sourceline)
        code = _text(element, self.ns, "Gemeentecode")
        if code != self.gemeentecode:
            raise self.reject(
                f"Stuurgegevens noemen gemeente {code}, de bestandsnaam {self.gemeentecode}",
                element.sourceline,
            )
        aanmaakdatum = _date(_text(element, self.ns, "Aanmaakdatum"))  # required by the XSD
        if aanmaakdatum is None:
            raise self.reject(f"Stuurgegevens: Aanmaakdatum {_JAREN}", element.sourceline)
        self.aanmaakdatum = dt.date.fromisoformat(aanmaakdatum)

    def require_stuurgegevens(self, regel: int | None) -> None:
        if self.aanmaakdatum is None:
            raise self.reject("Stuurgegevens ontbreken of staan niet vooraan", regel)

    def client(self, element: etree._Element, rows: dict[str, "_Table"]) -> Quarantaine | None:
        """One Client's rows, or why it is quarantined.

        After the XSD check the structure is known: fields are taken by their place in the XSD's
        sequence, and only optional ones after another optional one by tag. Asking lxml for a tag
        builds a namespaced string each time; a national file has millions of fields.
        """
        regel = element.sourceline
        first = element[0] if len(element) else None
        number = first.text if first is not None and first.tag == self._tags["BSN"] else None
        reden = self._client_reason(element, number)
        if reden is None:
            doelgroepen = self._doelgroepen(element, number)
            reden = doelgroepen if isinstance(doelgroepen, str) else None
        if reden is None:
            inzetten = self._inzetten(element, number)
            reden = inzetten if isinstance(inzetten, str) else None
        if reden is not None:
            return Quarantaine(regel, bsn.mask(number), reden)
        self.seen[number] = regel
        rows["dkd_reintegratie"].add([(number, regel)])
        rows["dkd_doelgroepen"].add(doelgroepen)
        rows["dkd_inzetten"].add(inzetten[0])
        rows["dkd_loonkostensubsidies"].add(inzetten[1])
        return None

    def _client_reason(self, element: etree._Element, number: str | None) -> str | None:
        """Why the Client as a whole is quarantined (XSD, BSN, a BSN seen before), or None."""
        schema = _schema(self.berichtversie)
        if not schema.validate(element):
            return _xsd_reason(schema, "Client")
        if not bsn.is_valid(number):
            return "BSN: geen geldig BSN (elfproef)"
        if number in self.seen:
            return f"BSN komt eerder voor (regel {self.seen[number]})"
        return None

    def _doelgroepen(self, element: etree._Element, number: str) -> list[tuple] | str:
        """The Client's Doelgroep rows, or why one of them is quarantined."""
        doelgroepen = []
        for kind in element.iterchildren(self._tags["Doelgroep"]):
            fields = [field_name.text for field_name in kind]  # Code, Begindatum[, Einddatum]
            period = _period(fields[1], fields[2] if len(fields) > 2 else None)
            if isinstance(period, str):
                return f"Doelgroep: {period}"
            doelgroepen.append((number, fields[0], *period))
        return doelgroepen

    def _inzetten(self, element: etree._Element, number: str) -> tuple[list, list] | str:
        """The Client's ReintegratieInzet and Loonkostensubsidie rows, or why it is quarantined."""
        t = self._tags
        inzetten, subsidies = [], []
        for kind in element.iterchildren(t["ReintegratieInzet"]):
            fields = list(kind)  # Soort, Begindatum[, Einddatum][, Loonkostensubsidie]
            lks = fields.pop() if len(fields[-1]) else None  # the one child with children
            period = _period(fields[1].text, fields[2].text if len(fields) > 2 else None)
            if isinstance(period, str):
                return f"ReintegratieInzet: {period}"
            inzet_nr = len(inzetten) + 1
            inzetten.append((number, inzet_nr, fields[0].text, *period))
            if lks is None:
                continue
            # Begindatum, then Einddatum, PercentageLoonwaarde and the werkgever, each optional
            fields = {field_name.tag: field_name.text for field_name in lks}
            period = _period(lks[0].text, fields.get(t["Einddatum"]))
            if isinstance(period, str):
                return f"Loonkostensubsidie: {period}"
            employer = fields.get(t["LoonheffingennummerWerkgever"])
            subsidies.append(
                (number, inzet_nr, *period, fields.get(t["PercentageLoonwaarde"]), employer)
            )
        return inzetten, subsidies


_JAREN = "valt buiten de jaren 0001-9999"


def _date(value: str) -> str | None:
    """An XSD-valid xs:date as `YYYY-MM-DD`, or None for a year before 0001 or after 9999.

    xs:date allows a timezone (`2024-03-01Z`, `2024-03-01+01:00`); it does not change which
    day is meant, so it is dropped. Ten characters are always a plain date already.
    """
    if len(value) == 10 or (value[4] == "-" and value[:4].isdigit()):
        return value[:10]
    return None


def _period(begin: str, end: str | None) -> tuple[str, str | None] | str:
    """(begindatum, einddatum) as plain ISO dates, or why the period is unusable."""
    begin = _date(begin)
    if begin is None:
        return f"datum {_JAREN}"
    if end is not None:
        end = _date(end)
        if end is None:
            return f"datum {_JAREN}"
        if end < begin:
            return "Einddatum ligt voor Begindatum"
    return begin, end
