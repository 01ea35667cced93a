"""The notification step (DESIGN 6.2, 7): a mail per new or changed report, exactly once.

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

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd

from lks_pipeline.core.crashpoints import crashpoint
from lks_pipeline.core.metadata import column_schema
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import ensure_schema, load_sql, statements, transaction
from lks_pipeline.notificaties.message import Melding, bericht
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.transport import Onbezorgbaar
from lks_pipeline.rapporten.assets import signaalrapporten
from lks_pipeline.rapporten.signaalrapport import sha256

BIJWERKEN_SQL = load_sql(__package__, "notificaties_bij.sql")
OPEN_SQL = load_sql(__package__, "notificaties_open.sql")
STATUSSEN = ("te_verzenden", "verzonden", "geen_adres", "vervallen")

GELUKT_SQL = """
UPDATE notificaties SET status = 'verzonden', ontvanger = $ontvanger, kanaal = $kanaal,
    message_id = $message_id, pogingen = pogingen + 1, laatste_fout = NULL, verzonden_op = $nu
WHERE bestand = $bestand AND sha256 = $sha256
"""
MISLUKT_SQL = """
UPDATE notificaties SET status = 'te_verzenden', pogingen = pogingen + 1, laatste_fout = $fout
WHERE bestand = $bestand AND sha256 = $sha256
"""
GEEN_ADRES_SQL = """
UPDATE notificaties SET status = 'geen_adres', laatste_fout = NULL
WHERE bestand = $bestand AND sha256 = $sha256
"""


def _nu() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _bestand_klopt(root: Path, pad: str, verwacht: str) -> bool:
    bestand = root / pad
    return bestand.is_file() and sha256(bestand.read_bytes()) == verwacht


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
            ("status", "VARCHAR", ", ".join(STATUSSEN)),
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
        with transaction(conn, "notificaties"):
            for statement in statements(BIJWERKEN_SQL):
                conn.execute(statement, {"nu": _nu()} if "$nu" in statement else {})
        kolommen = [
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
        ]
        open_ = [dict(zip(kolommen, r, strict=True)) for r in conn.execute(OPEN_SQL).fetchall()]
        fouten: list[dict] = []

        def mislukt(rij: dict, fout: str) -> None:
            conn.execute(MISLUKT_SQL, {"fout": fout, **_sleutel(rij)})
            fouten.append(rij)
            context.log.warning(f"Notificatie {rij['bestand']} niet verzonden: {fout}")

        zonder_adres = [r for r in open_ if r["ontvanger"] is None]
        for rij in zonder_adres:
            conn.execute(GEEN_ADRES_SQL, _sleutel(rij))
        klaar = []
        for rij in open_:
            if rij["ontvanger"] is None:
                continue
            if _bestand_klopt(lks.root, rij["pad"], rij["sha256"]):
                klaar.append(rij)
            else:
                mislukt(rij, "het bestand op schijf ontbreekt of wijkt af van zijn record")

        verzonden: list[dict] = []
        if klaar:
            try:
                with mail.verzending(lks.outbox) as transport:
                    for rij in klaar:
                        melding = _melding(rij)
                        msg = bericht(melding, mail.mail_from, rij["ontvanger"])
                        try:
                            kanaal = transport.verstuur(msg)
                        except Onbezorgbaar as fout:
                            mislukt(rij, str(fout))
                            if fout.alles:
                                raise
                            continue
                        crashpoint("notificatie:na_verzending")
                        conn.execute(
                            GELUKT_SQL,
                            {
                                "ontvanger": rij["ontvanger"],
                                "kanaal": kanaal,
                                "message_id": msg["Message-ID"],
                                "nu": _nu(),
                                **_sleutel(rij),
                            },
                        )
                        verzonden.append(rij)
            except Onbezorgbaar as fout:
                behandeld = {r["bestand"] for r in verzonden + fouten}
                for rij in klaar:
                    if rij["bestand"] not in behandeld:
                        mislukt(rij, str(fout))
        conn.execute("CHECKPOINT")
        per_status = dict(
            conn.execute("SELECT status, count(*) FROM notificaties GROUP BY ALL").fetchall()
        )

    metadata = _metadata(mail, verzonden, fouten, zonder_adres, per_status)
    for rij in verzonden:
        context.log.info(f"Notificatie verzonden: {rij['bestand']} ({rij['aantal']} signalen)")
    if fouten:
        raise dg.Failure(
            description=f"{len(fouten)} notificatie(s) niet verzonden via {mail.kanaal}; ze "
            "staan open in de tabel notificaties en gaan mee met de volgende run.",
            metadata=metadata,
            allow_retries=False,
        )
    return dg.MaterializeResult(metadata=metadata)


def _sleutel(rij: dict) -> dict:
    return {"bestand": rij["bestand"], "sha256": rij["sha256"]}


def _melding(rij: dict) -> Melding:
    return Melding(
        bestand=rij["bestand"],
        sha256=rij["sha256"],
        leverdatum=rij["leverdatum"],
        gemeentecode=rij["gemeentecode"],
        gemeentenaam=rij["naam"],
        product=rij["product"],
        aantal=rij["aantal"],
        vervangt_eerdere=rij["vervangt_eerdere"],
    )


def _metadata(mail: Mail, verzonden, fouten, zonder_adres, per_status: dict) -> dict:
    """Counts and file names only: never an address, a BSN or a name."""
    metadata = {
        "kanaal": mail.kanaal,
        "notificaties verzonden": len(verzonden),
        "notificaties niet verzonden": len(fouten),
        "rapporten zonder notificatie_email": len(zonder_adres),
        "gemeenten zonder notificatie_email": ", ".join(
            sorted({r["gemeentecode"] for r in zonder_adres})
        )
        or "geen",
        "dagster/row_count": sum(per_status.values()),
    }
    overzicht = pd.DataFrame([{"status": s, "rijen": per_status.get(s, 0)} for s in STATUSSEN])
    metadata["ledger per status"] = dg.MetadataValue.md(overzicht.to_markdown(index=False))
    if verzonden:
        lijst = pd.DataFrame(verzonden)[["gemeentecode", "bestand", "aantal"]].head(50)
        metadata["verzonden (eerste 50)"] = dg.MetadataValue.md(lijst.to_markdown(index=False))
    return metadata
