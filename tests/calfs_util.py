"""Helpers for tests that mount calfs for real.

A Calfs object owns a temporary directory with a mount.conf, a store and a
mount point.  mount() starts the daemon in the foreground with its output
in a log file and waits until the kernel shows the mount; umount() calls
fusermount3 -u and waits for the daemon to exit.  warnings() lists the
daemon's lines that a test must not see.
"""

import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("CALFS_BUILD", ROOT / "build")).resolve()
CALFS = BUILD / "calfs"
SHARED = ROOT.parent / "shared"
GEN = ROOT / "scripts" / "calfs-gen-org"

# the daemon's own warnings and errors, libfuse's complaints, GLib's
# criticals, and anything a sanitizer says
BAD_LINE = re.compile(r"^calfs: (warning|error):|^fuse:|-CRITICAL|-WARNING|"
                      r"Sanitizer|runtime error|Assertion")


def wait_for(cond, timeout=5.0, what="condition"):
    """Return cond()'s first true value, polling; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(0.005)


def ics(uid, summary="event", extra="", start="20200101T100000Z"):
    """One item as a client would write it (CRLF, one VEVENT)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calfs//tests//EN",
             "BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20200101T000000Z",
             "DTSTART:" + start, "SUMMARY:" + summary]
    lines += [l for l in extra.split("\n") if l]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def abort_connection(mnt):
    """Abort the FUSE connection of the mount at mnt, as an admin does
    when its daemon died with requests under way
    (/sys/fs/fuse/connections/N/abort): the waiting callers get ENOTCONN."""
    mnt = os.path.realpath(mnt)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == mnt:
                minor = fields[2].split(":")[1]
                try:
                    with open("/sys/fs/fuse/connections/%s/abort" % minor, "w") as a:
                        a.write("1")
                except OSError:
                    pass                # gone already


class Db:
    """A connection to a store's database for the tests' own queries:
    SQLite's placeholders (?) and bytes, whichever the backend."""

    def __init__(self, conn, pg):
        self.conn, self.pg = conn, pg

    def execute(self, sql, params=()):
        if self.pg:
            cur = self.conn.cursor()
            cur.execute(sql.replace("%", "%%").replace("?", "%s"), params)
            rows = cur.fetchall() if cur.description else []
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in rows]
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql, params=()):
        return self.execute(sql, params)[0]

    def check_integrity(self):
        if not self.pg:
            assert self.one("pragma integrity_check") == ("ok",)

    def close(self):
        self.conn.close()


class SqliteBackend:
    name = "sqlite"

    def new_store(self, directory):
        """(the [store] line, the store: a path)"""
        return "path=calfs.db", directory / "calfs.db"

    def share(self, store):
        return "path=%s" % store

    def copy(self, store, directory):
        shutil.copyfile(store, directory / "calfs.db")
        return "path=calfs.db", directory / "calfs.db"

    def connect(self, store):
        return Db(sqlite3.connect(str(store)), False)


class PgBackend:
    name = "postgresql"

    def __init__(self, server):
        self.server = server

    def new_store(self, directory):
        url = self.server.url(self.server.createdb())
        return "url=" + url, url

    def share(self, store):
        return "url=" + store

    def copy(self, store, directory):
        url = self.server.url(self.server.createdb(template=store.rsplit("/", 1)[1]))
        return "url=" + url, url

    def connect(self, store):
        import psycopg2
        conn = psycopg2.connect(store)
        conn.autocommit = True
        return Db(conn, True)


# The backend of the test under way (conftest.py sets it per test).
BACKEND = SqliteBackend()


class Calfs:
    """share: the store of another Calfs to use too; copy: a store to copy."""

    def __init__(self, tmp, conf_extra="", share=None, copy=None):
        self.dir = pathlib.Path(tmp)
        self.conf = self.dir / "mount.conf"
        self.mnt = self.dir / "mnt"
        self.log = self.dir / "daemon.log"
        self.proc = None
        self.backend = BACKEND
        if share is not None:
            line, self.store = self.backend.share(share), share
        elif copy is not None:
            line, self.store = self.backend.copy(copy, self.dir)
        else:
            line, self.store = self.backend.new_store(self.dir)
        self.store_line = line
        self.set_conf(conf_extra)
        # fix's list of failed mailboxes: beside a SQLite store, else
        # beside mount.conf
        self.failed_file = (self.dir / "calfs.failed" if self.backend.name != "sqlite"
                            else self.dir / "calfs.db.failed")

    def set_conf(self, extra):
        """Write mount.conf: this store's [store] group, then extra."""
        self.conf.write_text("[store]\n%s\n" % self.store_line + extra)

    def db(self):
        """A connection of the test's own to the store."""
        return self.backend.connect(self.store)

    def run(self, *args, check=True, **kw):
        """Run the calfs command on this store."""
        r = subprocess.run([str(CALFS), "-c", str(self.conf)] + [str(a) for a in args],
                           capture_output=True, text=True, **kw)
        if check and r.returncode != 0:
            raise AssertionError("calfs %s failed (%d): %s%s"
                                 % (" ".join(map(str, args)), r.returncode,
                                    r.stdout, r.stderr))
        return r

    def import_items(self, target, items):
        """Import {name: bytes} as .ics files into target."""
        src = self.dir / ("src-%d" % time.monotonic_ns())
        src.mkdir()
        for name, data in items.items():
            (src / name).write_bytes(data)
        return self.run("import", target, src)

    def mount(self, *opts, user=None):
        """Mount; as user (a name, through runuser) when given."""
        self.mnt.mkdir(exist_ok=True)
        logf = open(self.log, "ab")
        cmd = ["runuser", "-u", user, "--"] if user else []
        cmd += [str(CALFS), "-c", str(self.conf), "mount", "-f"]
        if os.environ.get("CALFS_TEST_DEBUG"):
            cmd.append("-d")        # every FUSE request, to the log
        for o in opts:
            cmd += ["-o", o]
        self.proc = subprocess.Popen(cmd + [str(self.mnt)], stdout=logf,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None,
                 timeout=10, what="the mount")
        if not os.path.ismount(self.mnt):
            raise AssertionError("calfs exited (%s): %s"
                                 % (self.proc.returncode, self.log.read_text()))

    def umount(self):
        if self.proc is None:
            return
        subprocess.run(["fusermount3", "-u", str(self.mnt)], check=True)
        rc = self.proc.wait(timeout=20)
        self.proc = None
        assert rc == 0, "daemon exited with %d: %s" % (rc, self.log.read_text())

    def cleanup(self):
        """Unmount whatever happens (for teardown after a failure)."""
        if self.proc is not None:
            subprocess.run(["fusermount3", "-u", "-z", str(self.mnt)],
                           capture_output=True)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""

    def warnings(self):
        return [l for l in self.log_text().splitlines() if BAD_LINE.search(l)]

    def path(self, *parts):
        return self.mnt.joinpath(*parts)
