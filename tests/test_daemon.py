"""The daemon as users run it: in the background (fstab form, calfs mount
without -f), beside other calfs commands on the same store; and the
mistakes that must not make a store or lose work: typos, missing files,
a bad zone, an undo over later work."""
import os
import subprocess
import threading
import time

import pytest

import calfs_util
from calfs_util import CALFS, Calfs, ics, wait_for

MB = "alice@example.com"
# "within a second", stretched for the sanitizer builds (Makefile)
SECOND = float(os.environ.get("CALFS_TEST_TIME_SCALE", "1"))


def in_store(c, sql, params=()):
    db = c.db()
    try:
        return db.execute(sql, params)
    finally:
        db.close()


class Loop(threading.Thread):
    """Run calfs commands one after the other until stopped; remember
    every failure."""

    def __init__(self, c, commands):
        super().__init__(daemon=True)
        self.c, self.commands = c, commands
        self.failures, self.runs = [], 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            for args in self.commands:
                r = self.c.run(*args, check=False, timeout=120)
                self.runs += 1
                if r.returncode != 0:
                    self.failures.append((args, r.returncode, r.stdout + r.stderr))

    def stop(self):
        self.halt.set()
        self.join(timeout=180)
        assert not self.is_alive(), "the commands did not end"


@pytest.mark.backends
def test_background_mount_beside_other_commands(tmp_path):
    """While a background daemon serves, other processes import, fix,
    run tz, check, export and journal in a loop, and files are written
    through the mount: every change shows both ways within a second,
    calfs check passes every time, the store stays whole and holds
    everything."""
    c = Calfs(tmp_path)
    try:
        c.import_items(MB, {"a.ics": ics("a", "Alpha")})
        c.mount(mode="background")
        out = tmp_path / "export"
        loop = Loop(c, [("fix",), ("tz",), ("check", c.mnt), ("journal",),
                        ("export", MB, out)])
        loop.start()
        rounds = 12
        for i in range(rounds):
            # a new mailbox imported by another process shows in the mount
            src = tmp_path / ("src%d" % i)
            src.mkdir()
            (src / ("x%d.ics" % i)).write_bytes(ics("x%d" % i, "imported %d" % i))
            c.run("import", "mb%d@example.com" % i, src)
            path = c.path("mb%d@example.com" % i, "Calendar", "x%d.ics" % i)
            wait_for(path.exists, SECOND, "an import to show in the mount")
            assert b"imported %d" % i in path.read_bytes()
            # a file written through the mount is in the store for others
            (c.path(MB, "Calendar") / ("w%d.ics" % i)).write_bytes(ics("w%d" % i, "written %d" % i))
            got = tmp_path / ("got%d" % i)
            c.run("export", MB, got)
            assert b"written %d" % i in (got / "Calendar" / ("w%d.ics" % i)).read_bytes()
            # and a change to it made elsewhere shows in the mount
            src2 = tmp_path / ("upd%d" % i)
            src2.mkdir()
            (src2 / ("w%d.ics" % i)).write_bytes(ics("w%d" % i, "updated %d" % i))
            c.run("import", MB, src2)
            w = c.path(MB, "Calendar", "w%d.ics" % i)
            wait_for(lambda: b"updated %d" % i in w.read_bytes(), SECOND,
                     "an update to show in the mount")
        loop.stop()
        assert not loop.failures, loop.failures[:3]
        assert loop.runs >= 5
        assert c.proc.poll() is None, "the daemon died"
        names = set(os.listdir(c.path(MB, "Calendar")))
        assert names == {"a.ics"} | {"w%d.ics" % i for i in range(rounds)}
        c.umount()
        db = c.db()
        try:
            db.check_integrity()
            assert db.one("select count(*) from items")[0] == 1 + 2 * rounds
            assert db.one("select count(*) from mailboxes")[0] == 1 + rounds
        finally:
            db.close()
        assert not c.warnings(), c.warnings()
    finally:
        c.cleanup()


@pytest.mark.backends
def test_check_passes_again_and_again(tmp_path):
    c = Calfs(tmp_path)
    try:
        c.import_items(MB, {"a.ics": ics("a")})
        c.mount(mode="background")
        for _ in range(5):
            r = c.run("check", c.mnt, check=False)
            assert r.returncode == 0, r.stdout
            assert "ok    notifications" in r.stdout
        c.umount()
        assert not c.warnings()
    finally:
        c.cleanup()


def test_daemon_holds_its_own_locks(tmp_path):
    """The daemon's SQLite connection is its own (opened after the fork):
    it holds its locks, and its -wal and -shm are the files on disk."""
    c = Calfs(tmp_path)
    try:
        c.import_items(MB, {"a.ics": ics("a")})
        c.mount(mode="background")
        pid = c.proc.pid
        with open("/proc/locks") as f:
            assert any(" %d " % pid in line for line in f), "the daemon holds no lock"
        fds = [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid)]
        assert str(c.store) + "-wal" in fds
        assert not [f for f in fds if f.endswith("(deleted)")], fds
        c.umount()
    finally:
        c.cleanup()


def test_mount_without_f_goes_to_the_background(tmp_path):
    """calfs mount (no -f) returns once the daemon serves; it logs to the
    file -o logfile= names."""
    c = Calfs(tmp_path)
    try:
        c.import_items(MB, {"a.ics": ics("a")})
        c.mnt.mkdir()
        r = c.run("mount", "-o", "logfile=%s" % c.log, c.mnt, timeout=30)
        assert r.returncode == 0 and not r.stderr
        assert os.listdir(c.path(MB, "Calendar")) == ["a.ics"]
        assert "mounted sqlite %s" % c.store in c.log_text()
        subprocess.run(["fusermount3", "-u", str(c.mnt)], check=True)
        wait_for(lambda: not calfs_util.is_mounted(c.mnt), 5, "the unmount")
    finally:
        c.cleanup()


def test_a_second_mount_on_the_same_point_is_refused(tmp_path):
    c = Calfs(tmp_path)
    try:
        c.import_items(MB, {"a.ics": ics("a")})
        c.mount(mode="background")
        for args in (("mount", c.mnt), ("mount", "-f", c.mnt)):
            r = c.run(*args, check=False, timeout=30)
            assert r.returncode == 1
            assert "a calfs mount is there already" in r.stderr
        r = subprocess.run([str(CALFS), str(c.store), str(c.mnt), "-o", "conf=%s" % c.conf],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "a calfs mount is there already" in r.stderr
        assert os.listdir(c.path(MB, "Calendar")) == ["a.ics"]    # still served
        c.umount()
    finally:
        c.cleanup()


# ---- a typo never makes a store ----

def test_commands_refuse_a_store_that_does_not_exist(tmp_path):
    c = Calfs(tmp_path)
    missing = tmp_path / "typo.db"
    c.conf.write_text("[store]\npath=typo.db\n")
    c.mnt.mkdir()
    for args in (("mount", "-f", c.mnt), ("mount", c.mnt), ("tz",), ("fix",), ("journal",),
                 ("export", MB, tmp_path / "out"), ("undo", "1")):
        r = c.run(*args, check=False, timeout=30)
        assert r.returncode == 1, (args, r.stderr)
        assert "store %s: no such file" % missing in r.stderr, (args, r.stderr)
        assert not missing.exists(), args
    r = c.run("check", check=False)
    assert r.returncode == 1 and "FAIL  store: %s: no such file" % missing in r.stdout
    assert not missing.exists()
    assert not calfs_util.is_mounted(c.mnt)
    # the two that make one
    c.run("init")
    assert missing.exists()


def test_fstab_form_takes_only_a_store(tmp_path):
    c = Calfs(tmp_path)
    c.mnt.mkdir()
    r = subprocess.run([str(CALFS), "chekc", str(c.mnt)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=30)
    assert r.returncode == 2 and "'chekc' is not a command" in r.stderr
    assert not (tmp_path / "chekc").exists()
    typo = tmp_path / "calfs.dbb"
    r = subprocess.run([str(CALFS), str(typo), str(c.mnt), "-o", "conf=%s" % c.conf],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "store %s: no such file" % typo in r.stderr
    assert not typo.exists()
    assert not calfs_util.is_mounted(c.mnt)


def test_no_sqlite_file_in_git():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=calfs_util.ROOT, capture_output=True,
                           check=True).stdout.split(b"\0")
    for f in filter(None, files):
        with open(os.path.join(calfs_util.ROOT, f.decode()), "rb") as fh:
            assert not fh.read(16).startswith(b"SQLite format 3"), f


# ---- bad input exits non-zero ----

def test_import_of_missing_and_foreign_files(tmp_path):
    c = Calfs(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.ics").write_bytes(ics("good"))
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    r = c.run("import", MB, src / "good.ics", tmp_path / "nowhere.ics", src / "photo.jpg",
              check=False)
    assert r.returncode == 1
    assert "nowhere.ics: skipped" in r.stderr and "photo.jpg: skipped" in r.stderr
    assert "1 created" in r.stdout and "2 skipped" in r.stdout
    assert in_store(c, "select name from items") == [("good.ics",)]


def test_bad_zone_in_mount_conf(tmp_path):
    c = Calfs(tmp_path)
    c.set_conf("\n[mailbox %s]\ntimezone=America/Nowhere\n" % MB)
    r = c.run("tz", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == ("calfs: %s:5: [mailbox %s] timezone: 'America/Nowhere'"
                                " is not a tzdata zone" % (c.conf, MB))


# ---- undo never clobbers later work ----

def runs(c):
    r = c.run("journal")
    return [l.split("\t") for l in r.stdout.splitlines()[1:]]


def test_undo_refuses_over_later_work(tmp_path):
    c = Calfs(tmp_path)
    c.import_items(MB, {"a.ics": ics("a", "one"), "b.ics": ics("b", "one")})
    first = runs(c)[0][0]
    c.mount(mode="background")
    c.path(MB, "Calendar", "a.ics").write_bytes(ics("a", "two"))
    c.umount()
    before = in_store(c, "select name, data from items order by name")
    r = c.run("undo", first, check=False)
    assert r.returncode == 1
    assert "%s/Calendar/a.ics: changed by run" % MB in r.stderr
    assert "nothing undone" in r.stderr
    assert in_store(c, "select name, data from items order by name") == before
    # --force does it anyway, as a run of its own
    r = c.run("undo", "--force", first)
    assert "clobbered %s/Calendar/a.ics" % MB in r.stderr
    assert in_store(c, "select count(*) from items") == [(0,)]
    assert runs(c)[0][-1] == "undo --force %s" % first


def test_a_mount_that_changes_nothing_leaves_no_run(tmp_path):
    c = Calfs(tmp_path)
    c.import_items(MB, {"a.ics": ics("a")})
    c.mount(mode="background")
    os.listdir(c.path(MB, "Calendar"))
    c.path(MB, "Calendar", "a.ics").read_bytes()
    c.umount()
    assert [r[-1].split()[0] for r in runs(c)] == ["import"]
    assert in_store(c, "select count(*) from runs") == [(1,)]
    # one that changes something does
    c.mount(mode="background")
    c.path(MB, "Calendar", "a.ics").write_bytes(ics("a", "changed"))
    c.umount()
    assert runs(c)[0][-1] == "mount %s" % c.mnt


def test_debug_shows_calfs_own_lines(tmp_path):
    """calfs mount -f -d: libfuse's trace and calfs's own debug lines (the
    render of the item a cat reads, how it was opened, the change log)."""
    c = Calfs(tmp_path)
    c.import_items("alice@example.com", {"a.ics": ics("a", "Alpha")})
    c.mnt.mkdir()
    log = open(tmp_path / "debug.log", "wb")
    proc = subprocess.Popen([str(CALFS), "-c", str(c.conf), "mount", "-f", "-d", str(c.mnt)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.ismount(c.mnt) or proc.poll() is not None, 10, "the mount")
        subprocess.run(["cat", str(c.path("alice@example.com", "Calendar", "a.ics"))],
                       check=True, capture_output=True, timeout=30)
        c.import_items("alice@example.com", {"b.ics": ics("b", "Bravo")})
        text = lambda: (tmp_path / "debug.log").read_text(errors="replace")
        wait_for(lambda: "calfs: debug: render alice@example.com/Calendar/a.ics" in text(),
                 5, "the render's debug line")
        assert "calfs: debug: open " in text()
        wait_for(lambda: "calfs: debug: change log: 1 changes after" in text(), 5,
                 "the change log's step")
        assert "opcode: OPEN" in text()         # libfuse's own trace
    finally:
        subprocess.run(["fusermount3", "-u", str(c.mnt)], capture_output=True)
        proc.wait(timeout=20)
        log.close()
