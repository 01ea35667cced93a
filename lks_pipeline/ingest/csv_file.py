"""Reading one `;`-separated feed file (rules 4): file checks, then records with line numbers.

One pass over the bytes (C-speed: UTF-8 decode, NUL search, newline count) rejects a file
that cannot be this CSV at all, naming the line. DuckDB's CSV reader then parses the records, with
structural errors (too many or too few fields, an unterminated quote, a line over 2 MiB) kept as
rejected lines rather than failing the file.

DuckDB numbers records, not lines: it skips blank lines and counts a quoted field spanning lines as
one. A file is *regular* when its physical line count equals header + records; then record k is
line k + 1 exactly. An irregular file (blank lines, line breaks inside quotes) is re-read with
Python's csv module, which reports the physical line of every record. Both give the same frame.

Every read is a cursor on one in-memory DuckDB database per process: opening a database costs
about 20 ms, a cursor 0.2 ms, and a run over a year of UWV files reads hundreds of them. A cursor
is a connection of its own, so its `reject_errors` belong to that read alone, and threads may
read at the same time.
"""

import codecs
import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

MAX_LINE_BYTES = 2 * 1024 * 1024
_COLUMN_NAME = re.compile(r"[a-z][a-z_]{0,39}")
_CHUNK = 1 << 20


class FileRejected(Exception):
    """The whole file is rejected; nothing of it is loaded (rules 4)."""

    def __init__(self, bestand: str, reden: str, regel: int | None = None):
        self.bestand, self.reden, self.regel = bestand, reden, regel
        waar = f"{bestand}, regel {regel}" if regel else bestand
        super().__init__(f"{waar}: {reden}")

    def __reduce__(self):
        """Picklable with its fields: a worker process raises it (`parallel.py`)."""
        return (FileRejected, (self.bestand, self.reden, self.regel))


@dataclass
class CsvContent:
    """The records of a file.

    `rows` holds the feed's columns as text (None = empty field), indexed by line number;
    `rejected` holds (line, reason) of records that could not be split into fields.
    """

    rows: pd.DataFrame
    rejected: list[tuple[int, str]]


@dataclass
class _Scan:
    header: str
    lines: int


def read(path: Path, columns: tuple[str, ...]) -> CsvContent:
    """Read `path` as a feed with exactly `columns` (any order). Raises BestandAfgewezen."""
    scan = _scan_bytes(path)
    header = _check_header(path.name, scan.header, columns)
    rows, rejected = _read_duckdb(path, header)
    if scan.lines != 1 + len(rows) + len(rejected):
        rows, rejected = _read_python(path, header)
    return CsvContent(rows=rows, rejected=sorted(rejected))


def _scan_bytes(path: Path) -> _Scan:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = 0
    header = bytearray()
    header_done = False
    last = b""
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if size == 0 and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise FileRejected(path.name, "is UTF-16 gecodeerd, niet UTF-8", 1)
            size += len(chunk)
            if (nul := chunk.find(b"\0")) >= 0:
                raise FileRejected(
                    path.name, "bevat NUL-tekens", newlines + 1 + chunk.count(b"\n", 0, nul)
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                regel = newlines + 1 + chunk.count(b"\n", 0, max(e.start, 0))
                raise FileRejected(path.name, "is geen geldige UTF-8", regel) from None
            if not header_done:
                end = chunk.find(b"\n")
                header += chunk if end < 0 else chunk[:end]
                header_done = end >= 0
                if len(header) > MAX_LINE_BYTES:
                    raise FileRejected(path.name, "kopregel is langer dan 2 MiB", 1)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileRejected(path.name, "is geen geldige UTF-8", newlines + 1) from None
    if size == 0:
        raise FileRejected(path.name, "is leeg: de kopregel ontbreekt")
    lines = newlines + (0 if last == b"\n" else 1)
    text = bytes(header).decode("utf-8").removeprefix("\ufeff").removesuffix("\r")
    return _Scan(header=text, lines=lines)


def _check_header(bestand: str, header: str, columns: tuple[str, ...]) -> list[str]:
    found = header.split(";")
    if len(found) == 1 and any(sep in header for sep in (",", "\t", "|")):
        raise FileRejected(bestand, "scheidingsteken is niet ';'", 1)
    missing = [k for k in columns if k not in found]
    extra = [k for k in found if k not in columns]
    doubles = [k for k in columns if found.count(k) > 1]
    problems = []
    if missing:
        problems.append("ontbrekende kolommen: " + ", ".join(missing))
    if extra:
        # A file without a header has a data row here: never echo what may be a BSN or a name.
        shown = [k for k in extra if _COLUMN_NAME.fullmatch(k)]
        hidden = len(extra) - len(shown)
        problems.append(
            "onbekende kolommen: "
            + ", ".join(shown + ([f"{hidden} die geen kolomnaam lijken"] if hidden else []))
        )
    if doubles:
        problems.append("dubbele kolommen: " + ", ".join(doubles))
    if problems:
        raise FileRejected(bestand, "kopregel klopt niet (" + "; ".join(problems) + ")", 1)
    return found


_DUCKDB_REASONS = {
    "TOO MANY COLUMNS": "te veel velden",
    "MISSING COLUMNS": "te weinig velden",
    "UNQUOTED VALUE": "aanhalingsteken niet goed afgesloten",
    "LINE SIZE OVER MAXIMUM": "regel is langer dan 2 MiB",
    "INVALID ENCODING": "is geen geldige UTF-8",
}


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _read_duckdb(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    columns = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in header) + "}"
    with _database().cursor() as conn:
        rows = conn.execute(
            f"""
            SELECT * FROM read_csv(?, delim = ';', quote = '"', escape = '"', header = true,
                auto_detect = false, columns = {columns}, strict_mode = true,
                store_rejects = true, max_line_size = {MAX_LINE_BYTES}, encoding = 'utf-8')
            """,  # noqa: S608 - column names come from our own tuple, checked against the header
            [str(path)],
        ).df()
        rejects = conn.execute(
            "SELECT line, error_type FROM reject_errors ORDER BY line"
        ).fetchall()
    rejected = [(int(line), _DUCKDB_REASONS.get(kind, kind.lower())) for line, kind in rejects]
    # Record k is line k + 1 when the file is regular (checked by the caller), rejected lines
    # taken out; the rows come in file order (DuckDB preserves insertion order).
    if rejected:
        rejected_lines = sorted({line for line, _ in rejected})
        all_lines = np.arange(2, 2 + len(rows) + len(rejected_lines), dtype=np.int64)
        good = np.setdiff1d(all_lines, rejected_lines, assume_unique=True)
        rows.index = pd.Index(good[: len(rows)], name="regel")
    else:
        rows.index = pd.RangeIndex(2, 2 + len(rows), name="regel")
    return rows, rejected


def _read_python(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    csv.field_size_limit(MAX_LINE_BYTES)
    records: list[list[str | None]] = []
    lines: list[int] = []
    rejected: list[tuple[int, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";", quotechar='"', doublequote=True)
        previous_end = 1
        next(reader)
        try:
            for record in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not record:
                    continue
                if len(record) != len(header):
                    reden = "te veel velden" if len(record) > len(header) else "te weinig velden"
                    rejected.append((start, reden))
                    continue
                records.append([v if v != "" else None for v in record])
                lines.append(start)
        except csv.Error:
            raise FileRejected(path.name, "regel is langer dan 2 MiB", previous_end + 1) from None
    rows = pd.DataFrame(
        records, columns=header, index=pd.Index(lines, name="regel"), dtype="object"
    )
    return rows, rejected
