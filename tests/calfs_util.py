"""Helpers for tests that mount calfs for real.

A Calfs object owns a temporary directory with a mount.conf, a store and a
mount point.  mount() starts the daemon the way MOUNT_MODE says: in the
background through the fstab form ("calfs STORE MOUNTPOINT -o conf=...",
what mount.fuse3 runs), logging to a file, or in the foreground (-f) with
its output in that file; it returns when the kernel shows the mount.
umount() calls fusermount3 -u and waits for the daemon to exit.
warnings() lists the daemon's lines that a test must not see.  No wait is
unbounded, and a mount whose daemon hangs or died is recovered without
fusectl (abort_mount).
"""

import ctypes
import os
import pathlib
import re
import shutil
import signal
import sqlite3
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("CALFS_BUILD", ROOT / "build")).resolve()
CALFS = BUILD / "calfs"
SHARED = ROOT.parent / "shared"
GEN = ROOT / "scripts" / "calfs-gen-org"

# the daemon's own warnings and errors, libfuse's complaints, GLib's
# criticals, and anything a sanitizer says (a log file's lines start with
# their time)
BAD_LINE = re.compile(r"^(\S+Z )?(calfs: (warning|error):|fuse:)|-CRITICAL|-WARNING|"
                      r"Sanitizer|runtime error|Assertion")

# How the daemon runs: "background" (the fstab form, as users run it) or
# "foreground" (-f).  conftest.py sets it per test.
MODES = ["background", "foreground"]
MOUNT_MODE = "background"


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


_libc = ctypes.CDLL(None, use_errno=True)
MNT_FORCE = 1


def abort_mount(mnt):
    """Abort the FUSE connection of the mount at mnt, as an admin does
    when its daemon died with requests under way: umount -f
    (umount2(MNT_FORCE)), which needs no /sys/fs/fuse/connections and
    touches nothing inside the mount (a stat there would hang).  The
    waiting callers get ENOTCONN; the mount stays until it is unmounted
    (fusermount3 -u -z)."""
    path = os.path.join(os.path.realpath(os.path.dirname(str(mnt))),
                        os.path.basename(str(mnt)))
    _libc.umount2(path.encode(), MNT_FORCE)     # EBUSY: aborted, still mounted


def is_mounted(mnt):
    """Whether something is mounted at mnt, from /proc/self/mountinfo:
    without touching the mount, which may hang."""
    path = os.path.join(os.path.realpath(os.path.dirname(str(mnt))),
                        os.path.basename(str(mnt)))
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4].replace("\\040", " ") == path for line in f)


def set_subreaper():
    """Make this process adopt orphaned descendants: background daemons
    (whose parent exits once they serve) can then be waited for, and their
    exit status read, like children."""
    PR_SET_CHILD_SUBREAPER = 36
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class Daemon:
    """A background daemon this process adopted (set_subreaper), with the
    parts of subprocess.Popen the tests use."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def _status(self, flags):
        if self.returncode is not None:
            return self.returncode
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:       # not adopted: only /proc can tell
            if os.path.exists("/proc/%d" % self.pid):
                return None
            self.returncode = 0
            return 0
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self):
        return self._status(os.WNOHANG)

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("calfs daemon %d" % self.pid, timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


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
        if share is None and copy is None:
            self.run("init")    # only init and import make a store
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

    def mount(self, *opts, user=None, mode=None, env=None):
        """Mount as MOUNT_MODE (or mode) says; as user (a name, through
        runuser) when given; with env as the daemon's environment."""
        self.env = env
        mode = mode or MOUNT_MODE
        self.mnt.mkdir(exist_ok=True)
        cmd = ["runuser", "-u", user, "--"] if user else []
        if mode == "foreground":
            cmd += [str(CALFS), "-c", str(self.conf), "mount", "-f"]
            if os.environ.get("CALFS_TEST_DEBUG"):
                cmd.append("-d")        # every FUSE request, to the log
            for o in opts:
                cmd += ["-o", o]
            self._mount_foreground(cmd + [str(self.mnt)])
        else:
            own = "conf=%s,logfile=%s" % (self.conf, self.log)
            cmd += [str(CALFS), str(self.store), str(self.mnt), "-o", own]
            for o in opts:
                cmd += ["-o", o]
            self._mount_background(cmd)

    def _mount_foreground(self, cmd):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        logf.close()
        wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None,
                 timeout=10, what="the mount")
        if not os.path.ismount(self.mnt):
            raise AssertionError("calfs exited (%s): %s"
                                 % (self.proc.returncode, self.log.read_text()))

    def _mount_background(self, cmd):
        # sanitizers report to files here: the daemon's stderr is /dev/null
        env = dict(self.env or os.environ)
        for var in ("ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"):
            env[var] = ":".join(filter(None, [env.get(var),
                                              "log_path=%s" % (self.dir / "sanitizer")]))
        before = len(self.log_text())
        r = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, timeout=30)
        if r.returncode != 0:
            raise AssertionError("calfs exited (%d): %s%s" % (r.returncode, r.stdout, r.stderr))
        # it returns once the daemon serves, which said so in its log
        found = re.findall(r"mounted .* \(pid (\d+)\)", self.log_text()[before:])
        assert found, "no pid in the daemon's log: %s" % self.log_text()
        assert os.path.ismount(self.mnt), "calfs returned before the mount was there"
        self.proc = Daemon(int(found[-1]))

    def umount(self):
        if self.proc is None:
            return
        subprocess.run(["fusermount3", "-u", str(self.mnt)], check=True)
        rc = self.proc.wait(timeout=20)
        self.proc = None
        assert rc == 0, "daemon exited with %d: %s" % (rc, self.log_text())

    def cleanup(self):
        """Unmount whatever happens (for teardown after a failure): a
        daemon that does not go within 20 s is killed, and its connection
        aborted so that nothing waits for it."""
        if self.proc is not None:
            subprocess.run(["fusermount3", "-u", "-z", str(self.mnt)],
                           capture_output=True)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                abort_mount(self.mnt)
                self.proc.wait(timeout=20)
            self.proc = None
        if is_mounted(self.mnt):
            abort_mount(self.mnt)
            subprocess.run(["fusermount3", "-u", "-z", str(self.mnt)],
                           capture_output=True)

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""

    def warnings(self):
        """The lines of the daemon's log, and of what a sanitizer wrote
        for a background daemon, that a test must not see."""
        lines = self.log_text().splitlines()
        for f in sorted(self.dir.glob("sanitizer.*")):
            lines += ["Sanitizer: " + l for l in f.read_text().splitlines()]
        # without the time a log file's lines start with
        return [re.sub(r"^\S+Z (?=calfs: |fuse:)", "", l) for l in lines if BAD_LINE.search(l)]

    def path(self, *parts):
        return self.mnt.joinpath(*parts)
