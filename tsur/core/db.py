"""Statements written out once per model, for the rows every registration reads and writes.

Django compiles an INSERT anew for every `save()` and `bulk_create()`: for an appeal and its first
events that compilation cost a quarter of a registration's time. `insert` keeps the statement per
model and number of rows and only prepares the values, as Django itself does (`pre_save`, then
`get_db_prep_save`). Like `bulk_create`, it sends no signals and takes no expressions as values.

A statement is kept per number of rows, and a list page journals as many rows as it shows (up to
500), so only the `STATEMENTS_KEPT` last used are kept: a long-lived worker keeps a few kilobytes,
not one statement of every length it ever wrote (about 3 MB for the page sizes alone).
"""

import functools

from django.db import connections, models

STATEMENTS_KEPT = 64


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _statement(model: type[models.Model], alias: str, rows: int) -> tuple[str, list[models.Field]]:
    connection = connections[alias]
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - names from the model
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert(objs: list[models.Model], using: str = "default") -> list[models.Model]:
    """Store new objects of one model with one statement; their primary keys are set."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[using]
    sql, fields = _statement(model, using, len(objs))
    params = []
    for obj in objs:
        if type(obj) is not model or not obj._state.adding:
            raise TypeError("insert() takes new objects of one model")
        obj._prepare_related_fields_for_save(operation_name="insert")  # as save() does
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"insert() takes values, not expressions ({field.name})")
            params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = using
    return objs


@functools.cache
def _lookup(model: type[models.Model], alias: str, column: str) -> tuple[str, list[str]]:
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(column)} = %s"  # noqa: S608 - names from the model
    return sql, [f.attname for f in meta.concrete_fields]


def get_by(model: type[models.Model], column: str, value, using: str = "default") -> models.Model | None:
    """The object whose unique `column` holds `value`, or None (no related objects are loaded)."""
    sql, attnames = _lookup(model, using, column)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return None if row is None else model.from_db(using, attnames, row)
