"""The facts' index of an organisation's period also holds what the drill-down conditions read and
the appeal's key (`fact_org_drill`, decision 0035), in place of `fact_org_registered`.

On PostgreSQL the new index is built CONCURRENTLY before the old one is dropped CONCURRENTLY: every
step refreshes its appeal's facts in its own transaction, and a plain CREATE INDEX would hold the
steps for as long as it reads the facts. Hence a migration outside a transaction.
"""

from django.db import migrations, models

OLD = models.Index(fields=["organisation", "registered_at"], name="fact_org_registered")
NEW = models.Index(
    fields=["organisation", "registered_at"],
    include=[
        "appeal",
        "status",
        "resolution_due",
        "first_response_due",
        "first_response_at",
        "answered",
        "answered_on_time",
        "ever_answered",
        "first_response_wsec",
        "resolution_wsec",
        "reopened",
        "redirected",
        "auto_routed",
        "rating",
        "confirmed",
        "repeat",
    ],
    name="fact_org_drill",
)


def _swap(built: models.Index, dropped: models.Index):
    def run(apps, schema_editor):
        model = apps.get_model("analytics", "AppealFact")
        options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
        schema_editor.add_index(model, built, **options)
        schema_editor.remove_index(model, dropped, **options)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analytics", "0004_fact_first_response_due"),
        ("appeals", "0022_stored_search_document"),
        ("core", "0005_building_point"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="appealfact", name="fact_org_registered"),
                migrations.AddIndex(model_name="appealfact", index=NEW),
            ],
            database_operations=[migrations.RunPython(_swap(NEW, OLD), _swap(OLD, NEW), atomic=False)],
        )
    ]
