"""Pandera schemas of the CSV feeds (rules 4.1, 4.2, 4.5): one row rule per check.

Every field arrives as text (None = empty). Each check's `error` is the Dutch quarantine reason,
naming the column but never the value, because a value may be a BSN or a name. Checks are
vectorized over the frame; a row failing any of them is quarantined with every reason it broke.
"""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from lks_pipeline.ingest import bsn
from lks_pipeline.referentie.data import gemeentecodes

UWV_COLUMNS = (
    "uwv_kenmerk",
    "berichttype",
    "bsn",
    "geboortedatum",
    "achternaam",
    "voorvoegsel",
    "voorletters",
    "naam_administratieve_eenheid",
    "loonheffingennummer",
    "datum_eerste_ao_dag",
    "datum_einde_arbeidsverhouding",
    "datum_einde_uitkeringsverhouding",
    "begindatum_zw_uitkering",
    "einddatum_zw_uitkering",
)
UWV_DATUMS = (
    "geboortedatum",
    "datum_eerste_ao_dag",
    "datum_einde_arbeidsverhouding",
    "datum_einde_uitkeringsverhouding",
    "begindatum_zw_uitkering",
    "einddatum_zw_uitkering",
)
BERICHTTYPEN = ("ZIEK_UIT_DIENST", "EINDE_ZW")
VERWIJSINDEX_COLUMNS = ("bsn", "cluster")
CLUSTERS = (
    "Uitkeringen",
    "Debiteuren",
    "Bijzondere bijstand",
    "Reintegratie",
    "Aanvraag uitkeringen",
)
INSTELLINGEN_COLUMNS = (
    "gemeentecode",
    "aanlevermethode",
    "berichtversie",
    "url",
    "leverfrequentie",
    "notificatie_email",
)
AANLEVERMETHODEN = ("verzamelbestand", "webservice")
LEVERFREQUENTIES = ("wekelijks", "maandelijks")
LOONHEFFINGENNUMMER = re.compile(r"\d{9}L\d{2}")
_ISO_DATUM = r"\d{4}-\d{2}-\d{2}"


def to_dates(values: pd.Series) -> pd.Series:
    """ISO dates `YYYY-MM-DD` as datetimes; anything else (2021-02-30 too) becomes NaT."""
    strict = values.where(values.str.fullmatch(_ISO_DATUM, na=False))
    return pd.to_datetime(strict, format="%Y-%m-%d", errors="coerce")


class _Dates:
    """Each date column of the frame under validation parsed once, for all rules that read it.

    A frame is known by identity and held until the next one, so a cached parse can never belong
    to another frame; pandera hands every table check the same frame.
    """

    def __init__(self):
        self._frame: pd.DataFrame | None = None
        self._parsed: dict[str, pd.Series] = {}

    def __call__(self, df: pd.DataFrame, column: str) -> pd.Series:
        if df is not self._frame:
            self._frame, self._parsed = df, {}
        if column not in self._parsed:
            self._parsed[column] = to_dates(df[column])
        return self._parsed[column]


def _check(check, *, error: str) -> pa.Check:
    """A row rule that decides about empty fields itself.

    With pandera's default `ignore_na=True` a row whose fields are all empty (a line of only `;`)
    passes every rule, and each rule pays for an `isna()` over the whole frame.
    """
    return pa.Check(check, error=error, ignore_na=False)


def _text(columns: tuple[str, ...]) -> dict[str, pa.Column]:
    return {name: pa.Column(object, nullable=True) for name in columns}


def _required(column: str, *, when: tuple[str, str] | None = None) -> pa.Check:
    """Column must be filled; with `als=(col, value)` only in rows where col == value."""

    def check(df: pd.DataFrame) -> pd.Series:
        filled = df[column].notna()
        return filled if when is None else filled | (df[when[0]] != when[1])

    waar = f" (verplicht bij {when[1]})" if when else ""
    return _check(check, error=f"{column}: ontbreekt{waar}")


def _valid_date(column: str, dates: _Dates) -> pa.Check:
    return _check(
        lambda df: df[column].isna() | dates(df, column).notna(),
        error=f"{column}: geen geldige datum (JJJJ-MM-DD)",
    )


def _not_before(later: str, earlier: str, dates: _Dates) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        a, b = dates(df, later), dates(df, earlier)
        return a.isna() | b.isna() | (a >= b)

    return _check(check, error=f"{later}: ligt voor {earlier}")


def _bsn_valid() -> pa.Check:
    return _check(
        lambda df: pd.Series(bsn.valid(df["bsn"]), index=df.index),
        error="bsn: geen geldig BSN (9 cijfers, elfproef)",
    )


def _unique(columns: list[str], what: str) -> pa.Check:
    return _check(
        lambda df: df[columns].isna().any(axis=1) | ~df.duplicated(columns, keep="first"),
        error=f"{what} komt eerder in het bestand voor",
    )


def uwv_schema(leverdatum: dt.date) -> pa.DataFrameSchema:
    """Rows of `uwv_lks_YYYYMMDD.csv`: both products' events of one delivery day (rules 4.1)."""
    dates = _Dates()
    geboren_voor_levering = _check(
        lambda df: (
            dates(df, "geboortedatum").isna()
            | (dates(df, "geboortedatum") <= pd.Timestamp(leverdatum))
        ),
        error="geboortedatum: ligt na de leverdatum",
    )
    return pa.DataFrameSchema(
        _text(UWV_COLUMNS),
        checks=[
            _required("uwv_kenmerk"),
            _unique(["uwv_kenmerk"], "uwv_kenmerk"),
            _check(
                lambda df: df["berichttype"].isin(BERICHTTYPEN),
                error="berichttype: niet ZIEK_UIT_DIENST of EINDE_ZW",
            ),
            _bsn_valid(),
            *[_valid_date(c, dates) for c in UWV_DATUMS],
            _required("geboortedatum", when=("berichttype", "EINDE_ZW")),
            geboren_voor_levering,
            _required("achternaam", when=("berichttype", "EINDE_ZW")),
            _required("voorletters", when=("berichttype", "EINDE_ZW")),
            _required("begindatum_zw_uitkering", when=("berichttype", "EINDE_ZW")),
            _required("datum_eerste_ao_dag", when=("berichttype", "ZIEK_UIT_DIENST")),
            _required("datum_einde_arbeidsverhouding", when=("berichttype", "ZIEK_UIT_DIENST")),
            _not_before("datum_einde_arbeidsverhouding", "datum_eerste_ao_dag", dates),
            _not_before("einddatum_zw_uitkering", "begindatum_zw_uitkering", dates),
        ],
        strict=True,
        name="uwv_events",
    )


def verwijsindex_schema() -> pa.DataFrameSchema:
    """Rows of `verwijsindex_GMxxxx_YYYYMMDD.csv`: BSNs a gemeente knows, per cluster (4.2)."""
    return pa.DataFrameSchema(
        _text(VERWIJSINDEX_COLUMNS),
        checks=[
            _bsn_valid(),
            _check(
                lambda df: df["cluster"].isin(CLUSTERS),
                error="cluster: geen bekend DKD-cluster",
            ),
            _unique(["bsn", "cluster"], "dezelfde bsn en cluster"),
        ],
        strict=True,
        name="verwijsindex",
    )


def instellingen_schema() -> pa.DataFrameSchema:
    """Rows of `dkd_instellingen_YYYYMMDD.csv`: each gemeente's Reintegratie settings (4.5)."""
    webservice = ("aanlevermethode", "webservice")
    verzamelbestand = ("aanlevermethode", "verzamelbestand")
    return pa.DataFrameSchema(
        _text(INSTELLINGEN_COLUMNS),
        checks=[
            _check(
                lambda df: df["gemeentecode"].isin(gemeentecodes()),
                error="gemeentecode: staat niet in de CBS-lijst",
            ),
            _unique(["gemeentecode"], "gemeentecode"),
            _check(
                lambda df: df["aanlevermethode"].isin(AANLEVERMETHODEN),
                error="aanlevermethode: niet verzamelbestand of webservice",
            ),
            _check(
                lambda df: df["berichtversie"].str.fullmatch(
                    r"GSDDossierReintegratie-v\d{4}", na=False
                ),
                error="berichtversie: niet van de vorm GSDDossierReintegratie-vNNNN",
            ),
            _required("url", when=webservice),
            _check(
                lambda df: df["url"].isna() | (df["aanlevermethode"] == "webservice"),
                error="url: alleen in te vullen bij webservice",
            ),
            _check(
                lambda df: df["url"].isna() | df["url"].str.fullmatch(r"https?://\S+", na=False),
                error="url: geen http(s)-adres",
            ),
            _required("leverfrequentie", when=verzamelbestand),
            _check(
                lambda df: (
                    df["leverfrequentie"].isna() | df["leverfrequentie"].isin(LEVERFREQUENTIES)
                ),
                error="leverfrequentie: niet wekelijks of maandelijks",
            ),
            _check(
                lambda df: (
                    df["notificatie_email"].isna()
                    | df["notificatie_email"].str.fullmatch(
                        r"[^@\s;]+@[^@\s;]+\.[^@\s;]+", na=False
                    )
                ),
                error="notificatie_email: geen geldig e-mailadres",
            ),
        ],
        strict=True,
        name="dkd_instellingen",
    )


def errors_per_line(rows: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.Series:
    """The reasons each failing row broke, joined with '; ', indexed by line; empty if none."""
    try:
        schema.validate(rows, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        order = {str(check.error): i for i, check in enumerate(schema.checks)}
        cases = cases.assign(volgorde=cases["check"].map(order).fillna(len(order)))
        cases = cases.drop_duplicates(["index", "check"]).sort_values(["index", "volgorde"])
        return cases.groupby("index")["check"].agg("; ".join).rename_axis("regel")
    return pd.Series(dtype="object", index=pd.Index([], name="regel", dtype=np.int64))
