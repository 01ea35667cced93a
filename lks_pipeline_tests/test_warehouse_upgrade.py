"""A warehouse of an earlier release upgrades in place; one of a later release is refused.

The earlier warehouse is release 6d4cb96's after processing the demo inbox, rebuilt from its
export (fixtures/warehouse_6d4cb96/). It predates recorded schema versions: version 0.
"""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import (
    SCHEMA_VERSION,
    WarehouseTooNew,
    ensure_schema,
    schema_version,
)
from lks_pipeline.notificaties.assets import notificaties
from lks_pipeline.notificaties.resources import Mail

EXPORT = Path(__file__).parent / "fixtures" / "warehouse_6d4cb96"
# What 6d4cb96 left after the demo, from its console summary: 117 events, of which one is
# routed to two gemeenten (118 signalen rows), and 28 notifications sent.
SIGNALEN, VERZONDEN = 118, 28


@pytest.fixture
def oud(tmp_path) -> Path:
    path = tmp_path / "warehouse" / "lks.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as conn:
        conn.execute((EXPORT / "schema.sql").read_text())
        conn.execute((EXPORT / "load.sql").read_text().replace("FROM '", f"FROM '{EXPORT}/"))
    return path


def snapshot(conn) -> dict:
    return {
        "signalen": conn.execute("SELECT * FROM signalen ORDER BY ALL").fetchall(),
        "notificaties": conn.execute("SELECT * FROM notificaties ORDER BY ALL").fetchall(),
        "leveringen": conn.execute("SELECT * FROM leveringen ORDER BY ALL").fetchall(),
    }


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_earlier_warehouse_is_upgraded_in_place_without_loss(oud):
    with duckdb.connect(str(oud)) as conn:
        assert schema_version(conn) == 0
        before = snapshot(conn)
        assert len(before["signalen"]) == SIGNALEN
        ensure_schema(conn)
        assert schema_version(conn) == SCHEMA_VERSION == 1
        assert snapshot(conn) == before
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'dkd_aanleverfouten_actueel' ORDER BY ordinal_position").fetchall()]  # fmt: skip
        assert columns[-1] == "sinds"  # the view of this release
        assert conn.execute("SELECT versie FROM schema_versie").fetchall() == [(1,)]
        ensure_schema(conn)  # a second start changes nothing
        assert conn.execute("SELECT versie FROM schema_versie").fetchall() == [(1,)]
        assert snapshot(conn) == before


def test_a_column_an_older_release_lacked_is_added_and_rows_keep_their_values(oud):
    with duckdb.connect(str(oud)) as conn:
        conn.execute("ALTER TABLE leveringen DROP COLUMN reden")
        conn.execute("ALTER TABLE leveringen DROP COLUMN berichtversie")
        rows = conn.execute("SELECT feed, bestand, sha256 FROM leveringen ORDER BY ALL").fetchall()
        ensure_schema(conn)
        assert (
            conn.execute("SELECT feed, bestand, sha256 FROM leveringen ORDER BY ALL").fetchall()
            == rows
        )
        assert conn.execute("SELECT count(*) FROM leveringen WHERE reden IS NULL").fetchone() == (
            len(rows),
        )


def test_no_mail_is_sent_again_after_the_upgrade(oud, tmp_path):
    resources = {
        "lks": LksSettings(data_dir=str(tmp_path)),
        "duckdb": Warehouse(database=str(oud)),
        "mail": Mail(),  # no SMTP host: every mail would be an .eml in outbox/
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize([notificaties], resources=resources, instance=instance)
    assert result.success
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or list(outbox.iterdir()) == []
    with duckdb.connect(str(oud), read_only=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM notificaties WHERE status = 'verzonden'"
        ).fetchone() == (VERZONDEN,)
        assert schema_version(conn) == SCHEMA_VERSION


def test_a_warehouse_of_a_later_release_is_refused_and_left_untouched(oud):
    with duckdb.connect(str(oud)) as conn:
        ensure_schema(conn)
        conn.execute(
            "INSERT INTO schema_versie VALUES (?, now(), 'een latere release')",
            [SCHEMA_VERSION + 1],
        )
    before = sha(oud)
    with (
        duckdb.connect(str(oud)) as conn,
        pytest.raises(
            WarehouseTooNew,
            match=f"schemaversie {SCHEMA_VERSION + 1}, deze code kent er {SCHEMA_VERSION}",
        ),
    ):
        ensure_schema(conn)
    assert sha(oud) == before


# The rooms' schema.sql as of each version. A current warehouse skips its schema.sql, so a
# change to it that does not raise SCHEMA_VERSION (with a migration) would never reach one.
SCHEMA_FINGERPRINT = {1: "ade376c50f3b00022e29d5fa39407fe334c05abbe950ba0069377f0266c1a08c"}


def test_a_changed_schema_comes_with_a_new_version():
    from lks_pipeline.core.warehouse import schema_sql

    assert (
        hashlib.sha256(schema_sql().encode()).hexdigest() == SCHEMA_FINGERPRINT[SCHEMA_VERSION]
    ), (
        "a room's schema.sql changed: raise SCHEMA_VERSION, add its migration (core/warehouse.py) "
        "and its fingerprint here"
    )
