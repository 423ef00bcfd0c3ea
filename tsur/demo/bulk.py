"""Rows of a model written in bulk from columns of numbers, for the generator of large registers.

A batch is a set of columns, one per concrete field of the model: a numpy array of numbers
(`Fixed`: integers, floats, booleans, moments as microseconds since the Unix epoch, with a mask of
NULLs) or an index into a small pool of values (`Pooled`: texts and JSON written once and repeated,
-1 for NULL). A field the batch does not name gets its model default.

On PostgreSQL the batch becomes one binary COPY, encoded by numpy without a Python loop over rows
(decision 0019): a row costs what its bytes cost. Elsewhere (SQLite) the same batch is converted to
Python values and inserted with executemany, slower but the same rows.
"""

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connections, models

STREAMS = 2  # connections building indexes at once after a large load
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in microseconds since the Unix epoch
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
# PostgreSQL column type (as Django names it) -> numpy big-endian type of its binary form
FIXED_TYPES = {
    "bigint": ">i8",
    "integer": ">i4",
    "smallint": ">i2",
    "double precision": ">f8",
    "boolean": "u1",
    "timestamp with time zone": ">i8",
}


@dataclass
class Fixed:
    """A column of numbers; `null` marks NULLs. Moments are microseconds since the Unix epoch."""

    values: np.ndarray
    null: np.ndarray | None = None


@dataclass
class Pooled:
    """A column whose values come from `pool` by `index` (-1: NULL). Pool values are strings (JSON
    already dumped for JSON fields)."""

    pool: list
    index: np.ndarray


def constant(value, n: int) -> Pooled:
    return Pooled([value], np.zeros(n, dtype=np.int64))


def moments(values: np.ndarray, null: np.ndarray | None = None) -> Fixed:
    return Fixed(np.asarray(values, dtype=np.int64), null)


def _db_type(field: models.Field, connection) -> str:
    kind = field.db_type(connection) or ""
    if field.is_relation:
        kind = field.target_field.rel_db_type(connection)
    return kind.split("(")[0].strip().lower()


def _default_column(field: models.Field, n: int, connection):
    value = field.get_default()
    if value is None:
        return Pooled([None], np.full(n, -1, dtype=np.int64))
    if isinstance(field, models.JSONField):
        return constant(json.dumps(value, ensure_ascii=False), n)
    kind = _db_type(field, connection)
    if kind in FIXED_TYPES:
        return Fixed(np.full(n, value))
    return constant(str(value), n)


def columns_for(model: type[models.Model], given: dict, n: int, using: str = "default") -> dict:
    """Every concrete field of the model (by column name) with the given column or its default;
    the primary key only when given (otherwise the database numbers the rows)."""
    connection = connections[using]
    meta = model._meta
    result = {}
    names = set(given)
    for field in meta.local_concrete_fields:
        key = field.attname if field.attname in given else field.name
        if key in given:
            result[field.column] = (field, given[key])
            names.discard(key)
        elif field is not meta.pk:
            result[field.column] = (field, _default_column(field, n, connection))
    if names:
        raise KeyError(f"{model.__name__} has no fields {sorted(names)}")
    return result


def write(model: type[models.Model], given: dict, n: int, using: str = "default") -> None:
    """Store n rows of `model` from columns (attname or field name -> Fixed/Pooled)."""
    if n == 0:
        return
    columns = columns_for(model, given, n, using)
    connection = connections[using]
    if connection.vendor == "postgresql":
        _copy(model, columns, n, connection)
    else:
        _executemany(model, columns, n, connection)


# ------------------------------------------------------------------ PostgreSQL: binary COPY


NULL = b"\xff\xff\xff\xff"


_encoded: dict[int, tuple[list, np.ndarray]] = {}


def _pool_fields(field, pool: list) -> np.ndarray:
    """Each pool value as the field it becomes in a tuple: its length, then its bytes. A pool
    marked `lasting` (the export's texts) is encoded once per process."""
    if isinstance(pool, Lasting):
        kept = _encoded.get(id(pool))
        if kept is None or kept[0] is not pool:
            kept = _encoded[id(pool)] = (pool, _encode_pool(field, pool))
        return kept[1]
    return _encode_pool(field, pool)


class Lasting(list):
    """A pool that does not change while the process writes batches with it."""


def _encode_pool(field, pool: list) -> np.ndarray:
    is_json = isinstance(field, models.JSONField)
    fields = np.empty(len(pool) + 1, dtype=object)
    for i, value in enumerate(pool):
        if value is None:
            fields[i] = NULL
            continue
        data = str(value).encode()
        if is_json:
            data = b"\x01" + data  # jsonb's binary form: a version byte, then the text
        fields[i] = len(data).to_bytes(4, "big") + data
    fields[-1] = NULL  # index -1
    return fields


def _fixed_matrix(columns: list, n: int) -> np.ndarray:
    """Columns of numbers as an (n, width) byte matrix of whole fields (length, then value)."""
    parts = []
    for kind, column in columns:
        dtype = np.dtype(FIXED_TYPES[kind])
        values = np.asarray(column.values)
        if kind == "timestamp with time zone":
            values = values.astype(np.int64) - PG_EPOCH_US
        lengths = np.full((n, 1), dtype.itemsize, dtype=">i4").view(np.uint8)
        data = np.ascontiguousarray(np.broadcast_to(values.astype(dtype), (n,))).view(np.uint8).reshape(n, -1)
        parts += [lengths, data]
    return np.ascontiguousarray(np.hstack(parts)) if parts else np.zeros((n, 0), dtype=np.uint8)


def _as_objects(matrix: np.ndarray) -> np.ndarray:
    """Rows of a byte matrix as bytes objects (a void view keeps trailing zero bytes)."""
    n, width = matrix.shape
    result = np.empty(n, dtype=object)
    result[:] = np.ascontiguousarray(matrix).view(f"V{width}").ravel().tolist()
    return result


def encode(columns: dict, n: int, connection) -> tuple[list[str], bytes]:
    """The rows in PostgreSQL's binary COPY format (header, tuples, trailer), and the order of
    their columns: numbers without NULLs first, as one block per row, then the rest, each a
    bytes object per row, joined once."""
    block, rest, names = [], [], []
    for name, (field, column) in columns.items():
        kind = _db_type(field, connection)
        if isinstance(column, Fixed):
            if kind not in FIXED_TYPES:
                raise TypeError(f"{field.name}: {kind} is not a numeric column")
            if column.null is None or not np.asarray(column.null).any():
                block.append((name, kind, column))
                continue
        rest.append((name, field, kind, column))
    count = np.full((n, 1), len(columns), dtype=">i2").view(np.uint8)
    head = np.hstack([count, _fixed_matrix([(k, c) for _, k, c in block], n)])
    cells = np.empty((n, 1 + len(rest)), dtype=object)
    cells[:, 0] = _as_objects(head)
    names = [name for name, _, _ in block]
    for i, (name, field, kind, column) in enumerate(rest, start=1):
        names.append(name)
        if isinstance(column, Fixed):
            values = _as_objects(_fixed_matrix([(kind, column)], n))
            values[np.asarray(column.null)] = NULL
            cells[:, i] = values
        else:
            cells[:, i] = _pool_fields(field, column.pool)[np.asarray(column.index)]
    return names, HEADER + b"".join(cells.ravel().tolist()) + TRAILER


@dataclass
class Encoded:
    """A batch ready to be sent: the COPY statement and its data (made without the database)."""

    statement: str
    data: bytes


def prepare(model: type[models.Model], given: dict, n: int, using: str = "default") -> Encoded:
    """PostgreSQL: the batch encoded, to be sent by `send` (maybe from another thread, on its own
    connection, while the next batch is encoded)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    order, data = encode(columns_for(model, given, n, using), n, connection)
    names = ", ".join(quote(column) for column in order)
    return Encoded(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)", data)  # noqa: S608


def send(encoded: Encoded, using: str = "default") -> None:
    with connections[using].cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(encoded.statement) as copy:
            view = memoryview(encoded.data)
            for start in range(0, len(encoded.data), 1 << 20):
                copy.write(view[start : start + (1 << 20)])


def _copy(model, columns: dict, n: int, connection) -> None:
    quote = connection.ops.quote_name
    order, data = encode(columns, n, connection)
    names = ", ".join(quote(column) for column in order)
    send(Encoded(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)", data))  # noqa: S608


# ------------------------------------------------------------------ other databases: executemany


def _python_values(field, column, n: int, connection) -> list:
    if isinstance(column, Pooled):
        index = np.asarray(column.index)
        pool = list(column.pool) + [None]  # -1 picks the trailing None
        return [pool[i] for i in index.tolist()]
    kind = _db_type(field, connection)
    values = column.values
    if kind in ("timestamp with time zone", "datetime"):
        out = [
            connection.ops.adapt_datetimefield_value(UNIX_EPOCH + timedelta(microseconds=v))
            for v in np.broadcast_to(values, (n,)).tolist()
        ]
    elif kind in ("bool", "boolean"):
        out = [bool(v) for v in np.broadcast_to(values, (n,)).tolist()]
    else:
        out = np.broadcast_to(values, (n,)).tolist()
    if column.null is not None:
        for i in np.flatnonzero(column.null).tolist():
            out[i] = None
    return out


def _executemany(model, columns: dict, n: int, connection) -> None:
    quote = connection.ops.quote_name
    lists = [_python_values(field, column, n, connection) for field, column in columns.values()]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(zip(*lists, strict=True)))


# ------------------------------------------------------------------ PostgreSQL: a large load


def fast_load(using: str = "default") -> None:
    """Inside a batch's transaction on PostgreSQL: commit without waiting for the disk (a crash may
    lose the last batches, never corrupt them), and, for a superuser, no per-row foreign-key
    triggers (the generator writes only keys it read from the database)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def secondary_indexes(tables: list[str], using: str = "default") -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `tables` that back no constraint (the primary key and
    unique constraints stay: they are what keeps numbers unique)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
            """,
            [tables],
        )
        return cursor.fetchall()


def drop_indexes(indexes: list[tuple[str, str]], using: str = "default") -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")


def create_indexes(indexes: list[tuple[str, str]], using: str = "default", streams: int = STREAMS) -> None:
    """Build the indexes again, each in one pass over the table (faster than keeping them per row).

    On `streams` connections at once, each taking the next index of one list: the GIN ones first
    (PostgreSQL 15 builds one in a single process: two of them, or one beside a B-tree's parallel
    sort, keep both cores busy where one after the other left one idle), then the largest tables'.
    Inside a transaction (a test's) other connections could not see the tables, and SQLite has one
    writer: one stream, on this connection.
    When a build fails or the caller is interrupted, the other streams take nothing more and their
    running statement is cancelled; the error comes out (what was not built, `IF NOT EXISTS` builds
    on the next call)."""
    connection = connections[using]
    sizes = _table_sizes([_table_of(definition) for _, definition in indexes], using)
    pending = sorted(indexes, key=lambda i: (" USING gin " not in i[1], -sizes.get(_table_of(i[1]), 0), i[0]))
    alone = connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit()
    if streams < 2 or len(pending) < 2 or alone:
        _build(lambda: pending.pop(0) if pending else None, using)
        return
    lock, stop, running = threading.Lock(), threading.Event(), []

    def take():
        with lock:
            return pending.pop(0) if pending and not stop.is_set() else None

    def stream():
        mine = connections[using]  # the thread's own connection
        try:
            mine.ensure_connection()
            with lock:
                running.append(mine.connection)
            _build(take, using)
        except BaseException:
            stop.set()
            raise
        finally:
            mine.close()

    pool = ThreadPoolExecutor(max_workers=streams)
    try:
        for done in [pool.submit(stream) for _ in range(streams)]:
            done.result()
    except BaseException:
        stop.set()
        with lock:
            for raw in running:  # psycopg's connections (more than one stream is PostgreSQL only)
                with contextlib.suppress(Exception):  # already closed: nothing left to stop
                    raw.cancel_safe()
        raise
    finally:
        pool.shutdown(wait=True)


def _table_of(definition: str) -> str:
    return definition.split(" ON ", 1)[1].split()[0].split(".")[-1].strip('"')


def _table_sizes(tables: list[str], using: str) -> dict[str, int]:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace",
            [sorted(set(tables))],
        )
        return dict(cursor.fetchall())


def _build(take, using: str) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '256MB'")
        while (index := take()) is not None:
            _, definition = index
            cursor.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
