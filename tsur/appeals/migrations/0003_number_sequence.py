"""The PostgreSQL sequence behind registration numbers (SQLite uses the NumberCounter row)."""

from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS tsur_appeal_number_seq START 1")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS tsur_appeal_number_seq")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0002_initial")]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]
