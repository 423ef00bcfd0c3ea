"""The text's Russian tsvector kept in a column of its own, `search_document`, computed by
PostgreSQL from the text (a stored generated column) and indexed by GIN; the expression index of
migration 0015 goes, as nothing reads it any more.

Why a column: the console's search is «the newest appeals whose number, address or words match». For
a rare word the planner reads the few matches from the indexes; for a common one («мусор»: one
appeal in seven) it walks the appeals newest first and stops after a page's worth — testing each
row's words then costs reading a stored tsvector, where the expression had to be computed from the
text for every row walked (141 against 20 ms for a page at 100,000 appeals; tsur.appeals.search).

Only on PostgreSQL and only in the database, not in the model's state (as 0015): SQLite searches by
substring; Django never selects the column. Adding it rewrites the table once (a lock for as long as
that takes on a large register). While the column exists, changing the type of `text` needs the
column dropped first.
"""

from django.db import migrations

OLD_INDEX = "appeal_text_search"
INDEX = "appeal_search_document"
COLUMN = "search_document"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE appeals_appeal ADD COLUMN IF NOT EXISTS {COLUMN} tsvector GENERATED ALWAYS AS "
            "(to_tsvector('russian'::regconfig, COALESCE(text, ''))) STORED"
        )
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON appeals_appeal USING gin ({COLUMN})"
        )
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD_INDEX}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {OLD_INDEX} ON appeals_appeal "
            "USING gin (to_tsvector('russian'::regconfig, COALESCE(text, '')))"
        )
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        cursor.execute(f"ALTER TABLE appeals_appeal DROP COLUMN IF EXISTS {COLUMN}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("appeals", "0021_open_appeals_covering")]

    operations = [migrations.RunPython(create, drop, atomic=False)]
