"""The job queue's SQLite storage, for a platform run with no Redis.

Huey's own SQLite storage switches its file to WAL on every new connection. Two processes starting at
once on a new file (the web process and the worker of `scripts/up`, or a worker and a `tsur` command)
can both ask for that switch, and SQLite answers the loser "database is locked" at once, without
waiting out the busy timeout: the process then died at start-up, in Django's set-up, with its jobs
left queued for nobody. Here the connection is retried for a while instead."""

import sqlite3
import time

import huey
from huey.storage import SqliteStorage

#: How long a starting process keeps trying for the queue's file before it gives up.
OPEN_PATIENCE_S = 30.0


class PatientSqliteStorage(SqliteStorage):
    def _create_connection(self):
        deadline = time.monotonic() + OPEN_PATIENCE_S
        pause = 0.05
        while True:
            try:
                return super()._create_connection()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


class SqliteHuey(huey.SqliteHuey):
    storage_class = PatientSqliteStorage
