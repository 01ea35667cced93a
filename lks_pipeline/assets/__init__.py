"""The asset modules, one per domain; here only what several of them show in the UI."""

import dagster as dg
import pandas as pd


def verdeling(rows: pd.DataFrame, kolom: str, telling: str) -> dg.MetadataValue:
    """A markdown table of how many rows hold each value of `kolom` (never a BSN column)."""
    per_waarde = rows.groupby(kolom).size().rename(telling).reset_index()
    return dg.MetadataValue.md(per_waarde.to_markdown(index=False))
