"""The GTest unit tests, run here so that one summary covers everything."""
import os
import subprocess

import pytest

from calfs_util import BUILD, SHARED

UNITS = sorted((BUILD / "tests").glob("test_*"))


@pytest.mark.parametrize("binary", UNITS, ids=[u.name for u in UNITS])
def test_unit(binary):
    env = dict(os.environ, CALFS_FIXTURES=str(SHARED / "fixtures" / "real"))
    r = subprocess.run([str(binary)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\nok " in r.stdout and "not ok" not in r.stdout


def test_units_were_built():
    assert {u.name for u in UNITS} >= {"test_item", "test_store", "test_conf", "test_repair",
                                       "test_itip", "test_tz"}


def test_store_unit_on_postgresql(pg_server):
    """The store's unit tests again, each on a new PostgreSQL database."""
    env = dict(os.environ, CALFS_TEST_PG=pg_server.url("postgres"))
    r = subprocess.run([str(BUILD / "tests" / "test_store")], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\nok " in r.stdout and "not ok" not in r.stdout
