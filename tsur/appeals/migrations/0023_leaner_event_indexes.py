"""The events keep only the indexes something reads (decision 0035): the organisation's goes (nothing
looks events up by it), the actor's is kept only where an actor is set (`event_actor`, «my» queue).

On PostgreSQL the new index is built CONCURRENTLY before the old ones are dropped CONCURRENTLY: the
steps of every appeal write events, and a plain CREATE INDEX would hold them for as long as it reads
millions of rows. Hence a migration outside a transaction, its state said apart from its SQL.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTOR = models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="event_actor")
UNINDEXED = ["actor_id", "organisation_id"]


def _options(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def _plain_indexes(schema_editor, model, column: str) -> list[str]:
    """The indexes on exactly this one column (those Django made for the foreign key), not ours."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        name
        for name, c in found.items()
        if c["index"]
        and not c["unique"]
        and not c["primary_key"]
        and c["columns"] == [column]
        and name != ACTOR.name
    )


def forwards(apps, schema_editor):
    model = apps.get_model("appeals", "AppealEvent")
    options = _options(schema_editor)
    schema_editor.add_index(model, ACTOR, **options)
    for column in UNINDEXED:
        for name in _plain_indexes(schema_editor, model, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, name, **options))


def backwards(apps, schema_editor):
    model = apps.get_model("appeals", "AppealEvent")
    options = _options(schema_editor)
    for column in UNINDEXED:
        field = model._meta.get_field(column.removesuffix("_id"))
        if not _plain_indexes(schema_editor, model, column):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field], **options))
    schema_editor.remove_index(model, ACTOR, **options)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0022_stored_search_document"),
        ("core", "0005_building_point"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="appealevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="кто",
                    ),
                ),
                migrations.AlterField(
                    model_name="appealevent",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="core.organisation",
                        verbose_name="организация",
                    ),
                ),
                migrations.AddIndex(model_name="appealevent", index=ACTOR),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, atomic=False)],
        )
    ]
