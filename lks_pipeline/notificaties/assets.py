"""The notification step (rules 6.2, 7): a mail per new or changed report, exactly once.

`notificaties` is the ledger table, one row per (report file, sha256 of its bytes). It is not
partitioned: each materialization sends every notification still open, whatever its day, so
mail that an SMTP outage held back goes out with the next run, from `lks-pipeline process`, the
daily job, or the retry sensor (`sensors.py`). It runs after the blocking check of
`signaalrapporten`, and sends only for a file whose bytes on disk are still those of its record.

Ledger states: `te_verzenden` (open), `verzonden` (accepted by the SMTP server or written to
`outbox/`), `geen_adres` (the gemeente has no notificatie_email; tried again on every run, so
the mail goes out once an address arrives), `vervallen` (a newer version of the file replaced
these bytes before they were announced; only the newest is announced).

Exactly-once: a row is marked `verzonden` right after the server accepted its mail, in its own
commit. A crash between those two moments sends that one mail once more on the next run, with
the same Message-ID. Any mail not sent makes the step fail after recording why, so `process`
exits 1 and the UI shows the run red; nothing is lost.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from lks_pipeline.core.crashpoints import crashpoint
from lks_pipeline.core.metadata import as_table, column_schema
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import ensure_schema, load_sql, statements, transaction, utc_now
from lks_pipeline.notificaties.message import Notificatie, email_message
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.transport import Undeliverable
from lks_pipeline.rapporten.assets import signaalrapporten
from lks_pipeline.rapporten.signaalrapport import sha256

UPDATE_SQL = load_sql(__package__, "notificaties_bij.sql")
OPEN_SQL = load_sql(__package__, "notificaties_open.sql")
STATUSES = ("te_verzenden", "verzonden", "geen_adres", "vervallen")

SENT_SQL = """
UPDATE notificaties SET status = 'verzonden', ontvanger = $ontvanger, kanaal = $kanaal,
    message_id = $message_id, pogingen = pogingen + 1, laatste_fout = NULL, verzonden_op = $nu
WHERE bestand = $bestand AND sha256 = $sha256
"""
FAILED_SQL = """
UPDATE notificaties SET status = 'te_verzenden', pogingen = pogingen + 1, laatste_fout = $fout
WHERE bestand = $bestand AND sha256 = $sha256
"""
NO_ADDRESS_SQL = """
UPDATE notificaties SET status = 'geen_adres', laatste_fout = NULL
WHERE bestand = $bestand AND sha256 = $sha256
"""


def _file_matches(root: Path, pad: str, expected: str) -> bool:
    bestand = root / pad
    return bestand.is_file() and sha256(bestand.read_bytes()) == expected


@dg.asset(
    group_name="rapporten",
    kinds={"duckdb", "email"},
    pool="duckdb_writer",
    deps=[signaalrapporten],
    metadata={
        "dagster/column_schema": column_schema(
            ("bestand", "VARCHAR", "report file name"),
            ("sha256", "VARCHAR", "sha256 of the bytes this row announces"),
            ("leverdatum", "DATE", "delivery day of the report"),
            ("gemeentecode", "VARCHAR", "the gemeente the report is for"),
            ("product", "VARCHAR", "LKS re-integratie or LKS einde zw"),
            ("aantal", "INTEGER", "signals in the report"),
            ("status", "VARCHAR", ", ".join(STATUSES)),
            ("ontvanger", "VARCHAR", "address the mail went to"),
            ("kanaal", "VARCHAR", "smtp or eml (outbox/)"),
            ("message_id", "VARCHAR", "Message-ID of the mail, the same for every attempt"),
            ("pogingen", "INTEGER", "delivery attempts"),
            ("laatste_fout", "VARCHAR", "why the last attempt failed"),
            ("aangemaakt_op", "TIMESTAMP", "UTC time the report content was first seen"),
            ("verzonden_op", "TIMESTAMP", "UTC time the mail was accepted"),
        )
    },
)
def notificaties(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse, mail: Mail
) -> dg.MaterializeResult:
    """One row per report content: whether its gemeente was told, when, and how (the ledger).

    Sends every open notification: over SMTP when LKS_SMTP_HOST is set, otherwise as `.eml` in
    `outbox/`. Subject as the seeds have it; the body names the file and the number of signals
    and holds no BSN or name. Fails, after recording, when a mail could not be delivered.
    """
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        ledger = Ledger(conn, context.log)
        ledger.update()
        ready = ledger.ready_to_send(lks.root)
        if ready:
            ledger.send(mail, lks.outbox, ready)
        conn.execute("CHECKPOINT")
        per_status = dict(
            conn.execute("SELECT status, count(*) FROM notificaties GROUP BY ALL").fetchall()
        )

    metadata = _metadata(mail, ledger.sent, ledger.failed, ledger.without_address, per_status)
    if ledger.sent:
        context.log.info(_sent_line(ledger.sent, mail.kanaal))
    if ledger.failed:
        raise dg.Failure(
            description=f"{len(ledger.failed)} notificatie(s) niet verzonden via {mail.kanaal}; "
            "ze staan open in de tabel notificaties en gaan mee met de volgende run.",
            metadata=metadata,
            allow_retries=False,
        )
    return dg.MaterializeResult(metadata=metadata)


LOGGED_NAMES = 10


def _sent_line(sent: list[dict], kanaal: str) -> str:
    """One log line for all mails of the step, naming the first files.

    Not a line per mail: a national day sends ~680, and each line is an event the instance
    stores (3 s of the step on SQLite); the ledger and the metadata hold every one.
    """
    names = ", ".join(f"{row['bestand']} ({row['aantal']})" for row in sent[:LOGGED_NAMES])
    more = f" en {len(sent) - LOGGED_NAMES} meer" if len(sent) > LOGGED_NAMES else ""
    return f"{len(sent)} notificatie(s) verzonden via {kanaal}: {names}{more}"


OPEN_COLUMNS = (
    "bestand",
    "sha256",
    "leverdatum",
    "gemeentecode",
    "naam",
    "product",
    "aantal",
    "pad",
    "ontvanger",
    "vervangt_eerdere",
)


class Ledger:
    """The `notificaties` table during one step: what is open, sent, failed or has no address.

    Every state change is its own statement, committed at once: a mail is marked `verzonden`
    right after the server accepted it, so a crash in between re-sends only that one mail.
    """

    def __init__(self, conn, log):
        self.conn, self.log = conn, log
        self.sent: list[dict] = []
        self.failed: list[dict] = []
        self.without_address: list[dict] = []

    def update(self) -> None:
        """Add a row for every new report content, and retire what newer bytes replaced."""
        with transaction(self.conn, "notificaties"):
            for statement in statements(UPDATE_SQL):
                self.conn.execute(statement, {"nu": utc_now()} if "$nu" in statement else {})

    def ready_to_send(self, root: Path) -> list[dict]:
        """The open rows with an address whose file on disk still has the recorded bytes."""
        fetched = self.conn.execute(OPEN_SQL).fetchall()  # before the updates below
        rows = [dict(zip(OPEN_COLUMNS, r, strict=True)) for r in fetched]
        ready = []
        for row in rows:
            if row["ontvanger"] is None:
                self.conn.execute(NO_ADDRESS_SQL, _key(row))
                self.without_address.append(row)
            elif _file_matches(root, row["pad"], row["sha256"]):
                ready.append(row)
            else:
                self.fail(row, "het bestand op schijf ontbreekt of wijkt af van zijn record")
        return ready

    def send(self, mail: Mail, outbox: Path, ready: list[dict]) -> None:
        """Send each mail and record it; when the transport is down, record it for all the rest."""
        try:
            with mail.transport(outbox) as transport:
                for row in ready:
                    self._send_one(transport, mail, row)
        except Undeliverable as error:
            handled = {r["bestand"] for r in self.sent + self.failed}
            for row in ready:
                if row["bestand"] not in handled:
                    self.fail(row, str(error))

    def _send_one(self, transport, mail: Mail, row: dict) -> None:
        msg = email_message(_notificatie(row), mail.mail_from, row["ontvanger"], mail.portaal_url)
        try:
            kanaal = transport.send(msg)
        except Undeliverable as error:
            self.fail(row, str(error))
            if error.transport_down:
                raise
            return
        crashpoint("notificatie:na_verzending")
        self.conn.execute(
            SENT_SQL,
            {
                "ontvanger": row["ontvanger"],
                "kanaal": kanaal,
                "message_id": msg["Message-ID"],
                "nu": utc_now(),
                **_key(row),
            },
        )
        self.sent.append(row)

    def fail(self, row: dict, error: str) -> None:
        """Record why a mail was not sent; it stays open for the next run."""
        self.conn.execute(FAILED_SQL, {"fout": error, **_key(row)})
        self.failed.append(row)
        self.log.warning(f"Notificatie {row['bestand']} niet verzonden: {error}")


def _key(row: dict) -> dict:
    return {"bestand": row["bestand"], "sha256": row["sha256"]}


def _notificatie(row: dict) -> Notificatie:
    return Notificatie(
        bestand=row["bestand"],
        sha256=row["sha256"],
        leverdatum=row["leverdatum"],
        gemeentecode=row["gemeentecode"],
        gemeentenaam=row["naam"],
        product=row["product"],
        aantal=row["aantal"],
        vervangt_eerdere=row["vervangt_eerdere"],
    )


def _metadata(mail: Mail, verzonden, errors, without_address, per_status: dict) -> dict:
    """Counts and file names only: never an address, a BSN or a name."""
    metadata = {
        "kanaal": mail.kanaal,
        "notificaties verzonden": len(verzonden),
        "notificaties niet verzonden": len(errors),
        "rapporten zonder notificatie_email": len(without_address),
        "gemeenten zonder notificatie_email": ", ".join(
            sorted({r["gemeentecode"] for r in without_address})
        )
        or "geen",
        "dagster/row_count": sum(per_status.values()),
    }
    overview = pd.DataFrame([{"status": s, "rijen": per_status.get(s, 0)} for s in STATUSES])
    metadata["ledger per status"] = as_table(overview)
    if verzonden:
        listing = pd.DataFrame(verzonden)[["gemeentecode", "bestand", "aantal"]].head(50)
        metadata["verzonden (eerste 50)"] = as_table(listing)
    return metadata
