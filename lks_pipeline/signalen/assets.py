"""Signal assets (rules 5): routing, zekerheid and product rules in SQL inside DuckDB.

Decisions where the spec is silent:
- A day's signals use the gemeenten's data as the warehouse holds it when the day is processed
  (their newest verwijsindex and DKD snapshots). A later delivery changes later days, not a day
  already processed; re-running a day applies the data held then.
- Day order does matter for `dubbel`, and is restored: computing a day marks the later days
  whose kenmerken changed between gemeld and not (`_mark_stale`), and `process` and
  `herberekening_sensor` recompute them, oldest first (docs/operations.md, Day order).
- Outcomes per (event, gemeente), first that applies: `niet_routeerbaar` (no gemeente knows the
  BSN: one row without gemeente), `dubbel` (the uwv_kenmerk was `gemeld` to any gemeente on an
  earlier delivery day), `na_wetswijziging_2022`, `buiten_doelgroep`, `gemeld`. Every routed row
  carries its zekerheid, also when not gemeld, so analysts see what would have been sent.
- Zekerheid 2 needs a ReintegratieInzet of any date (rules 5.2 sets no window for it); a BSN
  the gemeente knows from DKD data without any inzet is zekerheid 3.
- EINDE_ZW rows carry einddatum (derived when missing) and hervatdatum; ZIEK_UIT_DIENST rows
  leave both empty, as the rule is about the end of the ZW benefit.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from lks_pipeline.core import progress
from lks_pipeline.core.metadata import as_table, column_schema
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, partition_days
from lks_pipeline.core.resources import Warehouse
from lks_pipeline.core.warehouse import ensure_schema, load_sql, transaction
from lks_pipeline.ingest.assets import dkd_reintegratie, uwv_events, verwijsindex
from lks_pipeline.referentie.assets import doelgroepregister_codes
from lks_pipeline.webservice.assets import dkd_webservice

# Module attributes, so a test can swap in a deliberately leaking routing and see the check block.
ROUTERING_SQL = load_sql(__package__, "routering.sql")
SIGNALEN_SQL = load_sql(__package__, "signalen.sql")
LEKKEN_SQL = load_sql(__package__, "signalen_lekken.sql")
TERMIJNEN_SQL = load_sql(__package__, "poortwachter_termijnen.sql")

# The metadata key of the observation that marks a day stale (`plan.stale_days`).
VEROUDERD_DOOR = "verouderd door herberekening van"
UITKOMSTEN = ("gemeld", "buiten_doelgroep", "na_wetswijziging_2022", "dubbel", "niet_routeerbaar")

SLUITEND_COLUMNS = (
    "events",
    "zonder_uitkomst",
    "zonder_event",
    "onbekende_uitkomst",
    "regels_geladen",
    "in_quarantaine",
)
SLUITEND_SQL = """
SELECT
    (SELECT count(*) FROM uwv_events WHERE leverdatum = $dag) AS events,
    (SELECT count(*) FROM uwv_events AS e WHERE e.leverdatum = $dag AND NOT EXISTS (
        SELECT 1 FROM signalen AS s WHERE s.leverdatum = e.leverdatum AND s.regel = e.regel
    )) AS zonder_uitkomst,
    (SELECT count(*) FROM signalen AS s WHERE s.leverdatum = $dag AND NOT EXISTS (
        SELECT 1 FROM uwv_events AS e WHERE e.leverdatum = s.leverdatum AND e.regel = s.regel
    )) AS zonder_event,
    (SELECT count(*) FROM signalen
        WHERE leverdatum = $dag AND NOT list_contains($uitkomsten, uitkomst)) AS onbekende_uitkomst,
    (SELECT max(regels_geladen) FROM leveringen
        WHERE feed = 'uwv' AND leverdatum = $dag AND status = 'geladen') AS regels_geladen,
    (SELECT max(regels_gequarantaineerd) FROM leveringen
        WHERE feed = 'uwv' AND leverdatum = $dag AND status = 'geladen') AS in_quarantaine
"""


SIGNALEN_COLUMNS = column_schema(
    ("leverdatum", "DATE", "delivery day of the UWV file (the partition)"),
    ("regel", "INTEGER", "line of the event in that file"),
    ("uwv_kenmerk", "VARCHAR", "UWV's id of the event"),
    ("berichttype", "VARCHAR", "ZIEK_UIT_DIENST or EINDE_ZW"),
    ("product", "VARCHAR", "LKS re-integratie or LKS einde zw"),
    ("bsn", "VARCHAR", "the person's BSN"),
    ("gemeentecode", "VARCHAR", "gemeente routed to; empty for niet_routeerbaar"),
    ("uitkomst", "VARCHAR", ", ".join(UITKOMSTEN)),
    ("zekerheid", "TINYINT", "1, 2 or 3 (rules 5.2); empty for niet_routeerbaar"),
    ("via_verwijsindex", "BOOLEAN", "the gemeente's verwijsindex holds the BSN"),
    ("via_dkd", "BOOLEAN", "the gemeente's DKD data holds the BSN"),
    ("peildatum", "DATE", "einde arbeidsverhouding (ZIEK_UIT_DIENST) or begindatum ZW"),
    ("venster_begin", "DATE", "peildatum minus two years"),
    ("einddatum", "DATE", "EINDE_ZW: einddatum ZW uitkering, derived when missing"),
    ("einddatum_afgeleid", "BOOLEAN", "einddatum is begindatum + 104 weeks - 1 day"),
    ("hervatdatum", "DATE", "EINDE_ZW: the day after einddatum, when LKS resumes"),
)
TERMIJNEN_COLUMNS = column_schema(
    ("leverdatum", "DATE", "delivery day of the signal (the partition)"),
    ("gemeentecode", "VARCHAR", "gemeente the signal went to"),
    ("uwv_kenmerk", "VARCHAR", "UWV's id of the event"),
    ("bsn", "VARCHAR", "the person's BSN"),
    ("datum_eerste_ao_dag", "DATE", "first day of incapacity: day 1 of week 1"),
    ("week", "INTEGER", "6, 8, 26, 52, 78 or 91"),
    ("mijlpaal", "VARCHAR", "what is due in that week"),
    ("uiterste_datum", "DATE", "last day of that week"),
)


GEMELD_SQL = (
    "SELECT DISTINCT uwv_kenmerk FROM signalen WHERE leverdatum = $dag AND uitkomst = 'gemeld'"
)
# The later delivery days with an event whose kenmerk changed between gemeld and not on $dag
# (the day's gemeld kenmerken before and after, as temp tables of `compute_signalen`):
# only through `dubbel` does one day's outcome depend on another's (rules 5.3).
LATER_SQL = """
WITH gewijzigd AS (
    (SELECT uwv_kenmerk FROM gemeld_voor EXCEPT SELECT uwv_kenmerk FROM gemeld_na)
    UNION (SELECT uwv_kenmerk FROM gemeld_na EXCEPT SELECT uwv_kenmerk FROM gemeld_voor)
)
SELECT DISTINCT leverdatum FROM uwv_events
WHERE leverdatum > $dag AND uwv_kenmerk IN (SELECT uwv_kenmerk FROM gewijzigd)
ORDER BY leverdatum
"""


def compute_signalen(
    conn, dag: dt.date, verouderd: Callable[[list[dt.date]], None] | None = None
) -> None:
    """Replace the day's signals whole, in one transaction: routing, then outcome and zekerheid.

    `verouderd` hears, before the commit, which later days this changed (a kenmerk gemeld on
    this day now, or no longer): their `dubbel` may be wrong until they are computed again. A
    crash after it was told leaves those days marked, never unmarked. The asset's whole logic in
    SQL, apart from its checks; the property tests run it directly.
    """
    parameters = {"dag": dag}
    conn.execute(f"CREATE OR REPLACE TEMP TABLE routering AS {ROUTERING_SQL}", parameters)
    with transaction(conn, "signalen"):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE gemeld_voor AS {GEMELD_SQL}", parameters)
        conn.execute("DELETE FROM signalen WHERE leverdatum = $dag", parameters)
        conn.execute(f"INSERT INTO signalen BY NAME {SIGNALEN_SQL}", parameters)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE gemeld_na AS {GEMELD_SQL}", parameters)
        later = [row[0] for row in conn.execute(LATER_SQL, parameters).fetchall()]
        if later and verouderd is not None:
            verouderd(later)
    for temp in ("routering", "gemeld_voor", "gemeld_na"):
        conn.execute(f"DROP TABLE {temp}")


def _markdown(conn, sql: str, parameters: dict) -> dg.MetadataValue:
    return as_table(conn.execute(sql, parameters).df())


@dg.asset(
    partitions_def=dag_partitions,
    group_name="signalen",
    kinds={"duckdb"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    metadata={"dagster/column_schema": SIGNALEN_COLUMNS},
    deps=[
        dg.AssetDep(uwv_events),
        dg.AssetDep(dkd_webservice),
        dg.AssetDep(verwijsindex, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(dkd_reintegratie, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(doelgroepregister_codes),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "signalen_alleen_eigen_bsn",
            asset="signalen",
            blocking=True,
            description="rules 5.1: no gemeente receives a BSN absent from both its own "
            "verwijsindex and its own DKD data. A failure stops the reports.",
        ),
        dg.AssetCheckSpec(
            "signalen_uitkomsten_sluitend",
            asset="signalen",
            blocking=True,
            description="rules 5.3: every UWV event of the day has an outcome, every outcome "
            "an event, and events plus quarantined rows are the lines of the file.",
        ),
    ],
)
def signalen(context: dg.AssetExecutionContext, duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per (UWV event, gemeente it is routed to), with outcome and zekerheid (rules 5).

    An event no gemeente knows has one `niet_routeerbaar` row without gemeente, so every event
    of the day is accounted for. Each day is replaced whole in one transaction; routing and
    scoring run as SQL inside DuckDB over the gemeenten's current verwijsindex and DKD data. The
    checks cover every day of the run and name the days that fail.
    """
    checks = _Checks(days=len(context.partition_keys))
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        _require_doelgroepregister_codes(conn)
        for dag in progress.each("signalen", partition_days(context)):
            compute_signalen(conn, dag, _mark_stale(context, dag))
            checks.add_leaks(dag, *conn.execute(LEKKEN_SQL, {"dag": dag}).fetchone())
            metadata, sluitend = _day_metadata(conn, dag)
            checks.add_sluitend(dag, sluitend)
            context.add_asset_metadata(metadata, partition_key=dag.isoformat())
        conn.execute("CHECKPOINT")
    if checks.leaks:
        context.log.error(
            f"{checks.leaks} signalen naar gemeenten met een BSN dat die gemeente niet zelf "
            f"aanleverde ({'; '.join(checks.per_dag)}); rapporten worden niet geschreven"
        )
    return dg.MaterializeResult(check_results=checks.results())


def _mark_stale(context: dg.AssetExecutionContext, dag: dt.date):
    """Record on each later day made stale an observation that `plan.stale_days` reads.

    Also for later days of this same run: their materialization comes after the observation,
    so they count as current once the run succeeds, and as stale when it dies before that.
    """

    def mark(later: list[dt.date]) -> None:
        context.log.info(
            f"{dag}: {len(later)} latere dag(en) opnieuw te berekenen (dubbel): "
            + ", ".join(map(str, later))
        )
        for day in later:
            context.log_event(
                dg.AssetObservation(
                    asset_key=context.asset_key,
                    partition=day.isoformat(),
                    metadata={VEROUDERD_DOOR: dag.isoformat()},
                )
            )

    return mark


def _require_doelgroepregister_codes(conn) -> None:
    """Stop before routing without reference data: everyone would fall outside the population."""
    (codes,) = conn.execute("SELECT count(*) FROM doelgroepregister_codes").fetchone()
    if codes == 0:
        raise dg.Failure(
            "doelgroepregister_codes is leeg: materialiseer eerst de groep referentie, "
            "anders valt iedereen met een doelgroep buiten de populatie."
        )


@dataclass
class _Checks:
    """The two blocking checks of `signalen`, over every day of the run."""

    days: int
    leaks: int = 0
    per_dag: list[str] = field(default_factory=list)
    gemeenten: set[str] = field(default_factory=set)
    niet_sluitend: list[str] = field(default_factory=list)

    def add_leaks(self, dag: dt.date, rijen: int, gemeenten: list[str]) -> None:
        if rijen:
            self.leaks += rijen
            self.gemeenten.update(gemeenten)
            self.per_dag.append(f"{dag}: {rijen} rijen, {len(gemeenten)} gemeente(n)")

    def add_sluitend(self, dag: dt.date, sluitend: bool) -> None:
        if not sluitend:
            self.niet_sluitend.append(str(dag))

    def results(self) -> list[dg.AssetCheckResult]:
        return [
            dg.AssetCheckResult(
                check_name="signalen_alleen_eigen_bsn",
                passed=self.leaks == 0,
                metadata={
                    "rijen": self.leaks,
                    "gemeenten": len(self.gemeenten),
                    "per dag": "; ".join(self.per_dag) or "geen",
                },
            ),
            dg.AssetCheckResult(
                check_name="signalen_uitkomsten_sluitend",
                passed=not self.niet_sluitend,
                metadata={
                    "dagen": self.days,
                    "dagen niet sluitend": ", ".join(self.niet_sluitend) or "geen",
                },
                description="Per dag staan de tellingen in de metadata van de materialisatie."
                if self.niet_sluitend
                else None,
            ),
        ]


def _sluitend(conn, dag: dt.date) -> tuple[dict, bool]:
    """Whether the day's outcomes add up (rules 5.3), and the counts that say so."""
    parameters = {"dag": dag, "uitkomsten": list(UITKOMSTEN)}
    counts = dict(
        zip(SLUITEND_COLUMNS, conn.execute(SLUITEND_SQL, parameters).fetchone(), strict=True)
    )
    in_bestand = counts["regels_geladen"]
    # Without an accepted file for the day (none delivered, or a re-delivery rejected whole, which
    # keeps the rows of the version before it) there are no file lines to compare with.
    passed = (
        counts["zonder_uitkomst"] == 0
        and counts["zonder_event"] == 0
        and counts["onbekende_uitkomst"] == 0
        and (in_bestand is None or counts["events"] == in_bestand)
    )
    return counts, passed


def _day_metadata(conn, dag: dt.date) -> tuple[dict, bool]:
    """One day's UI metadata, and whether its outcomes add up (rules 5.3)."""
    parameters = {"dag": dag}
    sluitend, passed = _sluitend(conn, dag)
    per_uitkomst = conn.execute(
        "SELECT uitkomst, count(*) AS rijen, count(DISTINCT regel) AS events "
        "FROM signalen WHERE leverdatum = $dag GROUP BY uitkomst ORDER BY uitkomst",
        parameters,
    ).df()
    (gemeenten,) = conn.execute(
        "SELECT count(DISTINCT gemeentecode) FROM signalen "
        "WHERE leverdatum = $dag AND uitkomst = 'gemeld'",
        parameters,
    ).fetchone()
    per_zekerheid = _markdown(
        conn,
        "SELECT product, zekerheid, count(*) AS gemeld FROM signalen "
        "WHERE leverdatum = $dag AND uitkomst = 'gemeld' GROUP BY ALL ORDER BY ALL",
        parameters,
    )
    counts = dict(zip(per_uitkomst["uitkomst"], per_uitkomst["rijen"].tolist(), strict=True))
    in_bestand = sluitend["regels_geladen"]
    metadata = {
        "dagster/partition_row_count": sum(counts.values()),
        "events": sluitend["events"],
        "events in quarantaine": sluitend["in_quarantaine"] or 0,
        **{uitkomst: counts.get(uitkomst, 0) for uitkomst in UITKOMSTEN},
        "gemeenten met signalen": gemeenten,
        "per uitkomst": as_table(per_uitkomst),
        "gemeld per zekerheid": per_zekerheid,
        "regels geladen volgens leveringen": (
            in_bestand if in_bestand is not None else "geen geaccepteerd bestand"
        ),
        "events zonder uitkomst": sluitend["zonder_uitkomst"],
        "uitkomsten zonder event": sluitend["zonder_event"],
        "onbekende uitkomsten": sluitend["onbekende_uitkomst"],
    }
    return metadata, passed


@dg.asset(
    partitions_def=dag_partitions,
    group_name="signalen",
    kinds={"duckdb"},
    pool="duckdb_writer",
    deps=[signalen],
    backfill_policy=SINGLE_RUN,
    metadata={"dagster/column_schema": TERMIJNEN_COLUMNS},
)
def poortwachter_termijnen(
    context: dg.AssetExecutionContext, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per deadline of the Wet verbetering poortwachter per gemeld ZIEK_UIT_DIENST signal.

    Counted from datum_eerste_ao_dag (rules 5.4): week 6 probleemanalyse, week 8 plan van
    aanpak, weeks 26, 52 and 78 evaluatie/herijking, week 91 re-integratieverslag; the
    `uiterste_datum` is the last day of that week. Kept per gemeente for caseworkers' tooling.
    """
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        for dag in progress.each("poortwachter_termijnen", partition_days(context)):
            parameters = {"dag": dag}
            with transaction(conn, "poortwachter_termijnen"):
                conn.execute(
                    "DELETE FROM poortwachter_termijnen WHERE leverdatum = $dag", parameters
                )
                conn.execute(
                    f"INSERT INTO poortwachter_termijnen BY NAME {TERMIJNEN_SQL}", parameters
                )
            (rijen, signalen_, gemeenten) = conn.execute(
                "SELECT count(*), count(DISTINCT uwv_kenmerk || gemeentecode), "
                "count(DISTINCT gemeentecode) FROM poortwachter_termijnen WHERE leverdatum = $dag",
                parameters,
            ).fetchone()
            context.add_asset_metadata(
                {
                    "dagster/partition_row_count": rijen,
                    "signalen": signalen_,
                    "gemeenten": gemeenten,
                },
                partition_key=dag.isoformat(),
            )
        conn.execute("CHECKPOINT")
    return dg.MaterializeResult()
