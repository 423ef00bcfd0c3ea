"""Every index of the appeal is paid for by each registration: the unique ones become constraints
(a unique field also gets a LIKE-pattern index on PostgreSQL that no query uses), and building,
organisation and the event's appeal are indexed only inside the composite indexes leading with them.

On PostgreSQL nothing is rebuilt: the existing unique constraints are renamed (whatever name the
database's history gave them) and the unused indexes dropped, so a large register is not locked
while indexes are built. Elsewhere the usual operations run.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.migrations.operations.base import Operation

UNIQUE = [("appeals_appeal", "number", "appeal_number_unique"), ("appeals_appeal", "intake_key", "appeal_intake_key_unique")]
UNUSED = [
    ("appeals_appeal", "number", "varchar_pattern_ops"),
    ("appeals_appeal", "intake_key", "varchar_pattern_ops"),
    ("appeals_appeal", "building_id", ""),
    ("appeals_appeal", "organisation_id", ""),
    ("appeals_appealevent", "appeal_id", ""),
]


def _unique_constraint(cursor, table: str, column: str) -> str | None:
    cursor.execute(
        """
        SELECT c.conname FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND cardinality(c.conkey) = 1 AND a.attname = %s
        """,
        [table, column],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _plain_indexes(cursor, table: str, column: str) -> list[str]:
    """Non-unique indexes on this one column alone."""
    cursor.execute(
        """
        SELECT i.relname FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
        WHERE x.indrelid = %s::regclass AND x.indnatts = 1 AND NOT x.indisunique AND a.attname = %s
        """,
        [table, column],
    )
    return [row[0] for row in cursor.fetchall()]


def postgres_forwards(schema_editor) -> None:
    q = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for table, column, name in UNIQUE:
            current = _unique_constraint(cursor, table, column)
            if current and current != name:
                cursor.execute(f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(current)} TO {q(name)}")
            elif current is None:
                cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} UNIQUE ({q(column)})")
        for table, column, _ in UNUSED:
            for index in _plain_indexes(cursor, table, column):
                cursor.execute(f"DROP INDEX {q(index)}")


def postgres_backwards(schema_editor) -> None:
    q = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for table, column, name in UNIQUE:
            cursor.execute(f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(name)} TO {q(f'{table}_{column}_key')}")
        for table, column, opclass in UNUSED:
            index = f"{table}_{column}_{'like' if opclass else 'idx'}"
            cursor.execute(f"CREATE INDEX {q(index)} ON {q(table)} ({q(column)} {opclass})")


class OnPostgresRenamed(Operation):
    """The given operations' change of state; on PostgreSQL done by renaming and dropping (above),
    elsewhere by the operations themselves."""

    reversible = True

    def __init__(self, operations):
        self.operations = operations
        super().__init__()

    def deconstruct(self):
        return self.__class__.__name__, [self.operations], {}

    def state_forwards(self, app_label, state):
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            postgres_forwards(schema_editor)
            return
        for operation in self.operations:
            state = from_state.clone()
            operation.state_forwards(app_label, state)
            operation.database_forwards(app_label, schema_editor, from_state, state)
            from_state = state

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            postgres_backwards(schema_editor)
            return
        states = [to_state]
        for operation in self.operations[:-1]:
            state = states[-1].clone()
            operation.state_forwards(app_label, state)
            states.append(state)
        after = from_state
        for operation, before in zip(reversed(self.operations), reversed(states), strict=True):
            operation.database_backwards(app_label, schema_editor, after, before)
            after = before

    def describe(self):
        return "Leaner appeal indexes (renamed and dropped on PostgreSQL)"


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0008_outage_linked_event"),
        ("core", "0002_role_system"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgresRenamed(
            [
                migrations.AlterField(
                    model_name="appeal",
                    name="building",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="core.building",
                        verbose_name="здание",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="intake_key",
                    field=models.CharField(blank=True, editable=False, max_length=200, null=True),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="number",
                    field=models.CharField(max_length=20, verbose_name="номер"),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="core.organisation",
                        verbose_name="ответственная организация",
                    ),
                ),
                migrations.AlterField(
                    model_name="appealevent",
                    name="appeal",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="appeals.appeal",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.UniqueConstraint(fields=("number",), name="appeal_number_unique"),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.UniqueConstraint(fields=("intake_key",), name="appeal_intake_key_unique"),
                ),
            ]
        )
    ]
