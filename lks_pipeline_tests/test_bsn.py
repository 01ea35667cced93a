import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from stdnum.nl import bsn as stdnum_bsn

from lks_pipeline.ingest import bsn


def reference(value: str) -> bool:
    """python-stdnum's elfproef on values that are exactly nine ASCII digits (no normalising)."""
    return re.fullmatch(r"[0-9]{9}", value) is not None and stdnum_bsn.is_valid(value)


@given(st.lists(st.text(alphabet="0123456789", min_size=9, max_size=9), max_size=50))
def test_elfproef_agrees_with_stdnum_on_nine_digits(values):
    assert bsn.valid(pd.Series(values, dtype="object")).tolist() == [reference(v) for v in values]
    assert [bsn.is_valid(v) for v in values] == [reference(v) for v in values]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=50))
def test_elfproef_agrees_with_stdnum_on_any_text(values):
    expected = [v is not None and reference(v) for v in values]
    assert bsn.valid(pd.Series(values, dtype="object")).tolist() == expected
    assert [bsn.is_valid(v) for v in values] == expected


def test_known_values():
    values = [
        "123456782",
        "010000008",
        "000000000",
        "123456781",
        "10000008",
        "12345678 ",
        "١٢٣٤٥٦٧٨٢",
    ]
    assert bsn.valid(pd.Series(values, dtype="object")).tolist() == [
        True,
        True,
        False,  # all zeros is not a BSN
        False,  # elfproef fails
        False,  # eight digits: we never pad with a leading zero
        False,
        False,  # Arabic-Indic digits are not ASCII digits
    ]


def test_masking_keeps_only_the_last_three_digits():
    assert bsn.mask("010000008") == "******008"
    assert bsn.mask("12") == "***"
    assert bsn.mask(None) == "***"
