"""The signal path of one delivery day as a user would write it in pandas: the second yardstick.

Load the tables it needs from the warehouse, merge, decide outcome and zekerheid with vectorised
pandas (no per-row Python), write one CSV per gemeente and product, and store the signals back
in DuckDB. Written from rules 5 and 6.1 on its own; deliberately neither clever nor careless.
"""

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
OMSCHRIJVING = {
    1: "Re-integratie inzet met gegevens over Loonkostensubsidie gevonden.",
    2: "Re-integratie inzet gevonden maar (nog) geen gegevens over Loonkostensubsidie bekend.",
    3: "BSN bekend bij GSD.",
}
REINTEGRATIE = {
    "BSN": "bsn",
    "Datum einde uitkeringsverhouding": "datum_einde_uitkeringsverhouding",
    "Datum einde arbeidsverhouding": "datum_einde_arbeidsverhouding",
    "Datum eerste AO-dag": "datum_eerste_ao_dag",
}
EINDE_ZW = {
    "BSN": "bsn",
    "Geboortedatum": "geboortedatum",
    "Achternaam": "achternaam",
    "Voorvoegsel": "voorvoegsel",
    "Voorletter(s)": "voorletters",
    "Naam administratieve eenheid": "naam_administratieve_eenheid",
    "Loonheffingsnummer": "loonheffingennummer",
    "Zekerheid Loonkostensubsidie": "omschrijving",
    "Datum ziekmelding": None,
    "Begindatum ZW uitkering": "begindatum_zw_uitkering",
    "Datum betermelding": None,
    "Einddatum ZW uitkering": "einddatum",
}


def _veilig(kolom: pd.Series) -> pd.Series:
    body = kolom.astype("string")
    return body.where(~body.str.startswith(FORMULA_CHARACTERS, na=False), "'" + body)


def _date(kolom: pd.Series) -> pd.Series:
    return pd.to_datetime(kolom).dt.strftime("%d-%m-%Y")


def signaalpad(database: Path, dag: dt.date, rapporten: Path) -> pd.DataFrame:
    """Signals of `dag` (stored as `benchmark_signalen_pandas`) and reports under `rapporten`."""
    con = duckdb.connect(str(database))
    tables = _load(con, dag)
    s = _decide(_pairs(tables), tables)
    _write_reports(s, dag, rapporten)
    signalen = s[["regel", "uwv_kenmerk", "bsn", "gemeentecode", "uitkomst", "zekerheid"]]
    con.execute("CREATE OR REPLACE TABLE benchmark_signalen_pandas AS SELECT * FROM signalen")
    con.close()
    return signalen


def _load(con, dag: dt.date) -> dict[str, pd.DataFrame]:
    """The tables the day needs, as DataFrames; the events with their peildatum and window."""
    tables = {
        name: con.execute(f"SELECT * FROM {table}").df()  # noqa: S608 (our own table names)
        for name, table in (
            ("vi", "verwijsindex"),
            ("dkd", "dkd_reintegratie"),
            ("lks", "dkd_loonkostensubsidies"),
            ("inzetten", "dkd_inzetten"),
            ("doelgroepen", "dkd_doelgroepen"),
            ("codes", "doelgroepregister_codes"),
        )
    }
    tables["earlier"] = con.execute(
        "SELECT uwv_kenmerk FROM signalen WHERE leverdatum < ? AND uitkomst = 'gemeld'", [dag]
    ).df()
    events = con.execute("SELECT * FROM uwv_events WHERE leverdatum = ?", [dag]).df()
    for kolom in events.columns:
        if kolom.startswith(("datum", "begindatum", "einddatum", "geboortedatum")):
            events[kolom] = pd.to_datetime(events[kolom])
    events["peil"] = events["datum_einde_arbeidsverhouding"].where(
        events["berichttype"] == "ZIEK_UIT_DIENST", events["begindatum_zw_uitkering"]
    )
    events["van"] = events["peil"] - pd.DateOffset(years=2)
    tables["events"] = events
    return tables


def _pairs(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every (event, gemeente that knows its BSN); an unknown BSN keeps one row without one."""
    known = pd.concat(
        [tables["vi"][["gemeentecode", "bsn"]], tables["dkd"][["gemeentecode", "bsn"]]]
    ).drop_duplicates()
    return tables["events"].merge(known, on="bsn", how="left")


def _in_window(frame: pd.DataFrame) -> pd.Series:
    begin, einde = pd.to_datetime(frame["begindatum"]), pd.to_datetime(frame["einddatum"])
    return (begin <= frame["peil"]) & (einde.isna() | (einde >= frame["van"]))


def _facts(paren: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per pair: LKS with loonwaarde in the window, any inzet, and the population."""
    key = ["regel", "gemeentecode"]
    lks = tables["lks"][tables["lks"]["percentage_loonwaarde"].notna()]
    base = paren[["regel", "gemeentecode", "bsn", "peil", "van"]]
    m = base.merge(lks, on=["gemeentecode", "bsn"], suffixes=("", "_lks"))
    met_lks = m[_in_window(m)][key].drop_duplicates().assign(met_lks=True)
    met_inzet = tables["inzetten"][["gemeentecode", "bsn"]].drop_duplicates().assign(met_inzet=True)
    d = base.merge(tables["doelgroepen"], on=["gemeentecode", "bsn"])
    d["binnen"] = d["code"].isin(tables["codes"]["code"]) & _in_window(d)
    doelgroep = d.groupby(key)["binnen"].any().rename("in_populatie").reset_index()
    return (
        paren.merge(met_lks, on=key, how="left")
        .merge(met_inzet, on=["gemeentecode", "bsn"], how="left")
        .merge(doelgroep, on=key, how="left")
    )


def _decide(paren: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Zekerheid and outcome per pair, the derived einddatum and the report's omschrijving."""
    s = _facts(paren, tables)
    gerouteerd = s["gemeentecode"].notna()
    s["zekerheid"] = np.select(
        [~gerouteerd, s["met_lks"].eq(True), s["met_inzet"].eq(True)], [0, 1, 2], 3
    )
    s["uitkomst"] = np.select(
        [
            ~gerouteerd,
            s["uwv_kenmerk"].isin(tables["earlier"]["uwv_kenmerk"]),
            (s["berichttype"] == "EINDE_ZW")
            & (s["begindatum_zw_uitkering"] >= pd.Timestamp("2022-01-01")),
            s["in_populatie"].eq(False),
        ],
        ["niet_routeerbaar", "dubbel", "na_wetswijziging_2022", "buiten_doelgroep"],
        "gemeld",
    )
    s["einddatum"] = s["einddatum_zw_uitkering"].fillna(
        s["begindatum_zw_uitkering"] + pd.Timedelta(days=727)
    )
    s["omschrijving"] = s["zekerheid"].map(OMSCHRIJVING)
    return s


def _write_reports(s: pd.DataFrame, dag: dt.date, rapporten: Path) -> None:
    """One CSV per gemeente and product with a `gemeld` signal."""
    gemeld = s[s["uitkomst"] == "gemeld"].sort_values(["gemeentecode", "bsn", "uwv_kenmerk"])
    for berichttype, rapport, columns in (
        ("ZIEK_UIT_DIENST", "Re-integratie_signaalrapport", REINTEGRATIE),
        ("EINDE_ZW", "LKS_einde_zw_signaalrapport", EINDE_ZW),
    ):
        part = gemeld[gemeld["berichttype"] == berichttype]
        uit = pd.DataFrame(index=part.index)
        for kop, kolom in columns.items():
            if kolom is None:
                uit[kop] = None
            elif pd.api.types.is_datetime64_any_dtype(part[kolom]):
                uit[kop] = _date(part[kolom])
            else:
                uit[kop] = _veilig(part[kolom])
        for gemeentecode, rijen in uit.groupby(part["gemeentecode"]):
            pad = rapporten / gemeentecode / f"{gemeentecode}_{rapport}_{dag:%Y%m%d}.csv"
            pad.parent.mkdir(parents=True, exist_ok=True)
            rijen.to_csv(pad, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
