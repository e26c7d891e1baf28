"""`exclusive`: one holder at a time, across processes (and, on PostgreSQL, machines: an advisory
lock on the database every machine shares), freed when the holder dies. Runs on the run's
database: file locks on SQLite, advisory locks on PostgreSQL (bin/test's second pass)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from infra.locks import advisory_key, exclusive
from ingestion.services.ingest import DocumentBusy, document_lock
from tests.conftest import REPO, database_url

pytestmark = pytest.mark.django_db(transaction=True)


class Busy(Exception):
    pass


def test_a_second_holder_is_refused_until_the_first_lets_go():
    with exclusive("test-lock-a", Busy()):
        with pytest.raises(Busy), exclusive("test-lock-a", Busy()):
            pass
        with exclusive("test-lock-b", Busy()):  # another name is another lock
            pass
    with exclusive("test-lock-a", Busy()):
        pass


def test_a_holder_in_another_process_refuses_until_it_is_killed():
    """The other holder stands for a worker on another machine: its own process and its own
    connection to the database. SIGKILL, as a crashed worker: nothing unlocks, the end of its
    session (or, on SQLite, of its file descriptor) does."""
    holder = _holder_process("document-987654")
    try:
        with pytest.raises(DocumentBusy):
            with document_lock(987654):
                pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 60  # the server notices the closed socket at once, or nearly
    while True:
        try:
            with document_lock(987654):
                break
        except DocumentBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_on_postgresql_the_lock_is_an_advisory_lock_of_the_shared_database():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs use file locks (one machine); the PostgreSQL pass checks this")
    key = advisory_key("source-42")
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    query = (
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid::bigint = %s AND l.objid::bigint = %s "
        "AND l.granted AND a.application_name = 'kbqa source-42' AND a.datname = current_database()"
    )
    with exclusive("source-42", Busy()), connection.cursor() as cursor:
        cursor.execute(query, [high, low])
        assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        cursor.execute(query, [high, low])
        assert cursor.fetchone()[0] == 0  # let go with the block


def _holder_process(name: str) -> subprocess.Popen:
    """A Django process (the run's settings, data directory and test database) holding `name`."""
    code = (
        "import django, sys, time; django.setup()\n"
        "from infra.locks import exclusive\n"
        f"with exclusive({name!r}, RuntimeError('busy')):\n"
        "    print('held', flush=True); time.sleep(600)\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "kbqa.settings.test")
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if line.strip() != "held":
        process.kill()
        raise RuntimeError(f"the holder process did not take the lock: {line!r}")
    return process
