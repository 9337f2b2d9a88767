"""The GTest unit tests, run here so that one summary covers everything."""
import subprocess

import pytest

from calfs_util import BUILD

UNITS = sorted((BUILD / "tests").glob("test_*"))


@pytest.mark.parametrize("binary", UNITS, ids=[u.name for u in UNITS])
def test_unit(binary):
    r = subprocess.run([str(binary)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\nok " in r.stdout and "not ok" not in r.stdout


def test_units_were_built():
    assert {u.name for u in UNITS} >= {"test_item", "test_store", "test_conf"}
