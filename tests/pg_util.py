"""A throwaway PostgreSQL server for the tests.

PgServer runs initdb in a temporary directory and starts postgres on a
Unix socket there (no TCP port), as the postgres user when the tests run
as root (initdb refuses root).  Durability is off unless asked for: the
server lives as long as the test session.  Each store gets a database of its own
(createdb()).  stop() stops it; kill() kills it as a crash would, and
start() brings it back on the same data.
"""

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import urllib.parse

BINDIR = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
BINDIR = os.path.dirname(BINDIR[-1]) if BINDIR else None
USER = "calfs"


def is_url(spec):
    return spec.startswith(("postgresql://", "postgres://"))


def available():
    """None when a server can be started, else why not."""
    if not BINDIR:
        return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "python3-psycopg2 is not installed"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "runuser is missing (initdb must not run as root)"
    return None


class PgServer:
    _names = itertools.count(1)

    def __init__(self, durable=False):
        self.durable = durable
        self.dir = tempfile.mkdtemp(prefix="calfs-pg-")
        os.chmod(self.dir, 0o755)       # every user may reach the socket
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", USER, "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self.running = False

    def _run(self, tool, *args, check=True):
        return subprocess.run(self.prefix + [os.path.join(BINDIR, tool)] + list(args),
                              capture_output=True, text=True, check=check)

    def start(self):
        opts = "-k %s -c listen_addresses='' -c max_connections=300" % self.dir
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.logfile, "-o", opts, "-w", "start")
        self.running = True

    def stop(self):
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)
            self.running = False

    def kill(self):
        """Stop the server the way a crash does: no shutdown checkpoint,
        every connection dropped at once."""
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        self.running = False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db):
        return "postgresql://%s@%s/%s" % (USER, urllib.parse.quote(self.dir, safe=""), db)

    def connect(self, db="postgres"):
        import psycopg2
        conn = psycopg2.connect(self.url(db))
        conn.autocommit = True
        return conn

    def createdb(self, template=None):
        """A new empty database (or a copy of template); its name."""
        name = "t%d_%d" % (os.getpid(), next(self._names))
        conn = self.connect()
        try:
            conn.cursor().execute("CREATE DATABASE %s%s" % (
                name, " TEMPLATE %s" % template if template else ""))
        finally:
            conn.close()
        return name
