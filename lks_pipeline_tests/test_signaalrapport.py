"""The report format and file writing of rules 6.1, without Dagster."""

import datetime as dt

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lks_pipeline.core import files
from lks_pipeline.rapporten import signaalrapport
from lks_pipeline.rapporten.signaalrapport import EINDE_ZW, REINTEGRATIE


def cell(value):
    """Run the SQL of `excel_safe` on one value, as the report query does."""
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (v VARCHAR)")
        conn.execute("INSERT INTO t VALUES (?)", [value])
        return conn.execute(f"SELECT {signaalrapport.excel_safe('v')} FROM t").fetchone()[0]  # noqa: S608


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SOM(A1:A9)", "'=SOM(A1:A9)"),
        ("+31 20", "'+31 20"),
        ("-Visser", "'-Visser"),
        ("@Smit", "'@Smit"),
        ("\tJansen", "'\tJansen"),
        ("\rJansen", "'\rJansen"),
        ("Jansen-Smit", "Jansen-Smit"),
        ("'t Hart", "'t Hart"),
        ("", ""),
        (None, None),
    ],
)
def test_formula_cells_are_prefixed(value, expected):
    assert cell(value) == expected


@pytest.mark.slow
@given(st.text(max_size=12))
def test_prefix_property(value):
    result = cell(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert result == "'" + value
    else:
        assert result == value


def test_csv_bytes_quote_only_what_needs_it():
    data = signaalrapport.csv_bytes(
        ["A", "B", "C"],
        [("x;y", 'He said "hi"', None), ("regel\neen", "", "gewoon")],
    )
    assert data == ('\ufeffA;B;C\r\n"x;y";"He said ""hi""";\r\n"regel\neen";;gewoon\r\n'.encode())


def test_file_names_and_headers_are_the_seed_products():
    day = dt.date(2026, 11, 20)
    assert REINTEGRATIE.file_name("GM0363", day) == (
        "GM0363_Re-integratie_signaalrapport_20261120.csv"
    )
    assert EINDE_ZW.file_name("GM0363", day) == "GM0363_LKS_einde_zw_signaalrapport_20261120.csv"
    assert ";".join(REINTEGRATIE.header) == (
        "BSN;Datum einde uitkeringsverhouding;Datum einde arbeidsverhouding;Datum eerste AO-dag"
    )
    assert ";".join(EINDE_ZW.header) == (
        "BSN;Geboortedatum;Achternaam;Voorvoegsel;Voorletter(s);Naam administratieve eenheid;"
        "Loonheffingsnummer;Zekerheid Loonkostensubsidie;Datum ziekmelding;"
        "Begindatum ZW uitkering;Datum betermelding;Einddatum ZW uitkering"
    )


def test_atomic_write_is_private_and_replaces(tmp_path):
    path = tmp_path / "reports" / "GM0363" / "GM0363_x.csv"
    files.write_atomic(path, b"een")
    files.write_atomic(path, b"twee")
    assert path.read_bytes() == b"twee"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert [p.name for p in path.parent.iterdir()] == ["GM0363_x.csv"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "GM0363" / "GM0363_x.csv"
    files.write_atomic(path, b"oud")
    with pytest.raises(TypeError):
        files.write_atomic(path, "not bytes")
    assert path.read_bytes() == b"oud"
    assert [p.name for p in path.parent.iterdir()] == ["GM0363_x.csv"]


def test_only_our_temp_files_are_cleaned_up(tmp_path):
    (tmp_path / ".GM0363_x.csv.abc.tmp").write_bytes(b"half")
    (tmp_path / "GM0363_x.csv").write_bytes(b"heel")
    (tmp_path / "notities.tmp").write_bytes(b"van iemand anders")
    assert files.remove_temp_leftovers(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GM0363_x.csv", "notities.tmp"]
