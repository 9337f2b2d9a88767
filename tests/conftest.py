import pytest

from calfs_util import CALFS, Calfs


def pytest_configure(config):
    if not CALFS.exists():
        raise pytest.UsageError("%s is not built: run make check" % CALFS)


@pytest.fixture
def calfs(tmp_path):
    """A store and a mount point; mounted by the test when it wants."""
    c = Calfs(tmp_path)
    yield c
    c.cleanup()
    bad = c.warnings()
    assert not bad, "daemon printed warnings:\n" + "\n".join(bad)


@pytest.fixture
def mounted(calfs):
    """A mounted store with alice@example.com/Calendar holding a.ics, b.ics."""
    from calfs_util import ics
    calfs.import_items("alice@example.com", {
        "a.ics": ics("a", "Alpha"),
        "b.ics": ics("b", "Bravo"),
    })
    calfs.mount()
    yield calfs
    calfs.umount()
