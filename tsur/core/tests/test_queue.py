"""The queue's SQLite file is opened patiently: a process starting while another holds the file
waits its turn instead of dying in Django's set-up (seen in CI: a worker started beside a `tsur`
command died with "database is locked" and its deliveries waited for nobody)."""

import sqlite3
import threading

import pytest
from huey.storage import SqliteStorage

from tsur.core.queue import PatientSqliteStorage


def held_for(path, seconds: float) -> threading.Thread:
    """A thread holding an exclusive lock on the file at `path` for `seconds`, already holding it."""
    locked = threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("begin exclusive")
        locked.set()
        threading.Event().wait(seconds)
        conn.execute("rollback")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    locked.wait(5)
    return thread


def test_huey_s_own_storage_dies_on_a_file_held_by_another_process(tmp_path):
    """The failure the patient storage exists for (a short busy timeout stands for the race)."""
    path = str(tmp_path / "huey.sqlite3")
    holder = held_for(path, 1.0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        SqliteStorage("tsur", filename=path, timeout=0.05)
    holder.join()


def test_the_patient_storage_waits_for_the_file_and_then_works(tmp_path):
    path = str(tmp_path / "huey.sqlite3")
    holder = held_for(path, 1.0)
    storage = PatientSqliteStorage("tsur", filename=path, timeout=0.05)
    holder.join()
    storage.enqueue(b"job")
    assert storage.dequeue() == b"job"


def test_the_patient_storage_does_not_hide_other_errors(tmp_path):
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        PatientSqliteStorage("tsur", filename=str(tmp_path / "missing" / "huey.sqlite3"))
