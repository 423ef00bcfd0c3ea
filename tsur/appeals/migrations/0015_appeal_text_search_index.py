"""The console's full-text search reads an index on PostgreSQL: a GIN index on the Russian tsvector
of the appeal's text, built from the very expression tsur.appeals.search matches against
(`SearchVector("text", config="russian")`), so the planner can use it instead of computing the
tsvector of every appeal.

Only on PostgreSQL, and only in the database, not in the model's state: SQLite searches by substring,
and a table rebuilt by SQLite's schema editor must never try to make a GIN index. Built concurrently,
so a large register is not locked for writes while it is indexed.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

NAME = "appeal_text_search"


def _index() -> GinIndex:
    return GinIndex(SearchVector("text", config="russian"), name=NAME)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("appeals", "Appeal"), _index(), concurrently=True)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("appeals", "Appeal"), _index(), concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("appeals", "0014_review_followers_rating")]

    operations = [migrations.RunPython(create, drop, atomic=False)]
