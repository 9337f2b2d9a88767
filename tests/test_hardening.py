"""Hardening: a malformed corpus written through the mount, kill -9 of the
daemon and of the batch commands, many writers and readers at once."""
import errno
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from calfs_util import CALFS, Calfs, ics, wait_for
from malformed import corpus

MB = "alice@example.com"


def store_state(path):
    """Every item's name and a hash of its bytes, and the integrity check."""
    db = sqlite3.connect(str(path))
    try:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        return {(c, n): hashlib.sha1(d).hexdigest() for c, n, d in
                db.execute("select calendar_id, name, data from items")}
    finally:
        db.close()


def write(path, data):
    """Write data as cp does; the errno of a refusal, or 0."""
    try:
        with open(path, "wb") as f:
            f.write(data)
        return 0
    except OSError as e:
        return e.errno


def test_malformed_corpus_through_the_mount(calfs):
    calfs.import_items(MB, {"keep.ics": ics("keep")})
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    accepted = refused = 0
    accepted_names = []
    for name, data in corpus():
        before = store_state(calfs.store)
        target = cal / (name + ".ics")
        e = write(target, data)
        assert calfs.proc.poll() is None, "the daemon died on %s" % name
        if e:
            assert e == errno.EINVAL, "%s: %s" % (name, os.strerror(e))
            assert store_state(calfs.store) == before, "%s changed the store" % name
            wait_for(lambda: not target.exists(), 2, "the refused %s to go away" % name)
            refused += 1
            continue
        accepted += 1
        accepted_names.append(name)
        served = target.read_bytes()
        # served valid: calfs takes back what it serves
        os.unlink(target)
        assert write(target, served) == 0, name
        os.unlink(target)
    assert calfs.proc.poll() is None
    assert os.listdir(cal) == ["keep.ics"]
    assert refused > 100 and accepted > 20, (refused, accepted)
    assert not [n for n in accepted_names if n.startswith(("truncated", "nul-", "utf8-", "nesting", "two-"))], accepted_names
    log = calfs.log_text()
    assert log.count("refused") >= refused
    calfs.umount()
