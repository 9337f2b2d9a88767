import pytest

import calfs_util
import pg_util
from calfs_util import CALFS, Calfs

# The mount test suite runs on each store backend, with the daemon in
# the background (the fstab form) and in the foreground (-f).
MOUNT_SUITE = {"test_mount", "test_clients", "test_command", "test_repair", "test_rebase",
               "test_admin", "test_hardening", "test_permissions", "test_parses"}
BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config):
    if not CALFS.exists():
        raise pytest.UsageError("%s is not built: run make check" % CALFS)
    # background daemons are adopted by this process, which can then wait
    # for them and read their exit status
    calfs_util.set_subreaper()


def pytest_report_header(config):
    why = pg_util.available()
    return ("PostgreSQL: %s; its tests are skipped" % why if why else
            "PostgreSQL: a throwaway server from %s" % pg_util.BINDIR)


def pytest_generate_tests(metafunc):
    suite = metafunc.module.__name__ in MOUNT_SUITE
    if "store_backend" in metafunc.fixturenames and \
            (suite or metafunc.definition.get_closest_marker("backends")):
        metafunc.parametrize("store_backend", BACKENDS, indirect=True)
    if "mount_mode" in metafunc.fixturenames and suite:
        metafunc.parametrize("mount_mode", calfs_util.MODES, indirect=True)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the session, or a skip."""
    why = pg_util.available()
    if why:
        pytest.skip(why)
    server = pg_util.PgServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(autouse=True)
def store_backend(request):
    """The store backend of the test: SQLite, or PostgreSQL for the mount
    suite's second run."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        calfs_util.BACKEND = calfs_util.PgBackend(request.getfixturevalue("pg_server"))
    else:
        calfs_util.BACKEND = calfs_util.SqliteBackend()
    yield kind
    calfs_util.BACKEND = calfs_util.SqliteBackend()


@pytest.fixture(autouse=True)
def mount_mode(request):
    """How the test's daemons run: in the background through the fstab
    form (the default), or in the foreground for the mount suite's second
    run."""
    calfs_util.MOUNT_MODE = getattr(request, "param", "background")
    yield calfs_util.MOUNT_MODE
    calfs_util.MOUNT_MODE = "background"


@pytest.fixture
def calfs(tmp_path, store_backend, mount_mode):
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
