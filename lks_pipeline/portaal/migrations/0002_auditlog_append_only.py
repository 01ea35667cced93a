"""The audit log is append-only in the database itself (rules 8.3).

Triggers refuse every UPDATE and DELETE on `portaal_auditregel`, on SQLite and on PostgreSQL,
so neither the portal, the admin nor someone with the portal's database login can rewrite it.
"""

from django.db import migrations

SQLITE = [
    f"CREATE TRIGGER auditregel_geen_{actie.lower()} BEFORE {actie} ON portaal_auditregel "
    "BEGIN SELECT RAISE(ABORT, 'het auditlog is alleen-toevoegen'); END"
    for actie in ("UPDATE", "DELETE")
]
POSTGRESQL = [
    "CREATE FUNCTION auditregel_alleen_toevoegen() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'het auditlog is alleen-toevoegen'; END $$",
    "CREATE TRIGGER auditregel_alleen_toevoegen BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON portaal_auditregel FOR EACH STATEMENT EXECUTE FUNCTION auditregel_alleen_toevoegen()",
]


def append_only(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}[schema_editor.connection.vendor]
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("portaal", "0001_initial")]
    operations = [migrations.RunPython(append_only, migrations.RunPython.noop)]
