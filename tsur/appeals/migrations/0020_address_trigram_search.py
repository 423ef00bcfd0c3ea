"""The console's search finds an address by any part of it (`address__icontains`: on PostgreSQL
`UPPER(address::text) LIKE UPPER('%…%')`), which no b-tree can serve: every building and every
appeal was read for each search. Trigram GIN indexes on exactly that expression (the `pg_trgm`
extension, trusted since PostgreSQL 13, so the database's owner may create it) let the planner find
the few that contain the words.

Only on PostgreSQL, only in the database (as 0015). Where the extension cannot be created (a role
without the right), the migration says so and leaves the indexes out: search works as before.
"""

from django.db import migrations

INDEXES = (
    ("appeal_address_trgm", "appeals_appeal"),
    ("building_address_trgm", "core_building"),
)


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as error:  # noqa: BLE001 - any refusal: the search stays as it was
            print(f"\n  pg_trgm недоступно ({error}); поиск по адресу без индекса")  # noqa: T201
            return
        for name, table in INDEXES:
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                "USING gin (UPPER(address::text) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table in INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0019_channel_regulation_and_social_events"),
        ("core", "0004_sign_in_codes"),
    ]

    operations = [migrations.RunPython(create, drop, atomic=False)]
