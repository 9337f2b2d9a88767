"""Hardening: a malformed corpus written through the mount, kill -9 of the
daemon and of the batch commands, many writers and readers at once."""
import errno
import hashlib
import os
import random
import signal
import subprocess
import time

import pytest

from calfs_util import CALFS, Calfs, abort_mount, ics, is_mounted, wait_for
from malformed import corpus

MB = "alice@example.com"
# the helper scripts below import calfs_util from this folder
LIBFUSE_ABORTED = "fuse: reading device: Software caused connection abort\n"
HELPER_ENV = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))


def store_state(c):
    """Every item's name and a hash of its bytes, and the integrity check."""
    db = c.db()
    try:
        db.check_integrity()
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
        before = store_state(calfs)
        target = cal / (name + ".ics")
        e = write(target, data)
        assert calfs.proc.poll() is None, "the daemon died on %s" % name
        if e:
            assert e == errno.EINVAL, "%s: %s" % (name, os.strerror(e))
            assert store_state(calfs) == before, "%s changed the store" % name
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


def journal_matches(c):
    """Every item's version is the last one its journal recorded, and the
    journal's versions of an item follow each other."""
    db = c.db()
    try:
        for item_id, version in db.execute("select id, version from items"):
            rows = db.execute("select old_version, new_version from journal where item_id = ? "
                              "and new_version is not null order by id", (item_id,))
            assert rows, "item %d has no journal" % item_id
            assert rows[-1][1] == version, (item_id, rows, version)
            for (_, new), (old, _) in zip(rows, rows[1:]):
                assert old == new, (item_id, rows)
    finally:
        db.close()


WRITER = r"""
import os, sys
from calfs_util import ics
cal, first, count, summary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for i in range(first, first + count):
    for name, uid in (("a%02d.ics" % i, "a%02d" % i), ("n%02d.ics" % i, "n%02d" % i)):
        data = ics(uid, summary)
        try:
            if name.startswith("n"):                 # the way vdirsyncer writes
                tmp = os.path.join(cal, ".tmp-%s" % name)
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.rename(tmp, os.path.join(cal, name))
            else:                                    # the way cp writes
                with open(os.path.join(cal, name), "wb") as f:
                    f.write(data)
        except OSError:
            sys.exit(0)                              # the daemon is gone
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_daemon_during_parallel_writes(calfs, seed):
    n = 40
    calfs.import_items(MB, {"a%02d.ics" % i: ics("a%02d" % i, "old") for i in range(n)})
    old = store_state(calfs)
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    db = calfs.db()
    start = db.one("select count(*) from journal")[0]
    writers = [subprocess.Popen(["python3", "-c", WRITER, str(cal), str(k * n // 4), str(n // 4),
                                 "new"], env=HELPER_ENV) for k in range(4)]
    stop_at = random.Random(seed).randint(5, 2 * n - 10)
    wait_for(lambda: db.one("select count(*) from journal")[0] - start >= stop_at
             or all(w.poll() is not None for w in writers), 30, "the writes to be under way")
    db.close()
    calfs.proc.send_signal(signal.SIGKILL)
    # a killed daemon whose notifier thread waits for a directory lock
    # that a writer holds stays a zombie: abort its connection (umount -f,
    # which works without fusectl)
    abort_mount(calfs.mnt)
    calfs.proc.wait(timeout=20)
    calfs.proc = None
    for w in writers:
        assert w.wait(timeout=30) == 0      # done, or stopped by the daemon's death
    subprocess.run(["fusermount3", "-u", "-z", str(calfs.mnt)], capture_output=True)
    assert not is_mounted(calfs.mnt)
    # every item is exactly its old or its new bytes
    after = store_state(calfs)
    new = {("a%02d" % i): hashlib.sha1(ics("a%02d" % i, "new")).hexdigest() for i in range(n)}
    new.update({("n%02d" % i): hashlib.sha1(ics("n%02d" % i, "new")).hexdigest() for i in range(n)})
    for (cal_id, name), digest in after.items():
        uid = name[:-4]
        assert digest == new[uid] or digest == old.get((cal_id, name)), name
    assert {k for k in old} <= set(after)
    journal_matches(calfs)
    # a remount serves everything
    calfs.log.write_text("")
    calfs.mount()
    served = {n: hashlib.sha1((cal / n).read_bytes()).hexdigest() for n in os.listdir(cal)}
    assert served == {name: d for (_, name), d in after.items()}
    calfs.umount()


def test_kill_import_then_rerun(tmp_path):
    from calfs_util import GEN
    src = tmp_path / "org"
    subprocess.run([str(GEN), "--mailboxes", "60", "--items", "10", "--export-items", "4",
                    "--broken", "0.3", "--replies", "3", "--seed", "5", str(src)],
                   check=True, capture_output=True)
    (tmp_path / "once").mkdir()
    once = Calfs(tmp_path / "once")
    once.run("import", "--tree", src)
    (tmp_path / "killed").mkdir()
    c = Calfs(tmp_path / "killed")
    c.run("journal")                                 # creates the store
    db = c.db()
    stop_at = random.randint(1, 200)
    proc = subprocess.Popen([str(CALFS), "-c", str(c.conf), "import", "--tree", str(src)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: db.one("select count(*) from journal")[0] >= stop_at
             or proc.poll() is not None, 60, "the import to be under way")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the import ended before it was killed"
    db.close()
    store_state(c)                             # integrity
    journal_matches(c)
    c.run("import", "--tree", src)

    def items(c):
        db = c.db()
        try:
            return sorted(db.execute(
                "select m.name, c.name, i.name, i.data from items i join calendars c on "
                "c.id = i.calendar_id join mailboxes m on m.id = c.mailbox_id"))
        finally:
            db.close()
    assert items(c) == items(once)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs (root only)")
def test_import_onto_a_full_disk(tmp_path, store_backend, mount_mode):
    """An import that fills the store's disk stops with an error naming the
    store, and exits non-zero; what it committed before is whole (each item
    with its journal), and its counts are of what is stored."""
    from calfs_util import GEN
    if store_backend != "sqlite" or mount_mode != "background":
        pytest.skip("a SQLite store's disk, once (no mount)")
    src = tmp_path / "org"
    subprocess.run([str(GEN), "--mailboxes", "40", "--items", "20", "--export-items", "4",
                    "--seed", "3", str(src)], check=True, capture_output=True)
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        c = Calfs(small)
        r = c.run("import", "--tree", src, check=False)
        assert r.returncode != 0
        assert "store %s" % (small / "calfs.db") in r.stderr
        assert "disk is full" in r.stderr
        created = int(r.stdout.split(" created")[0].rsplit(" ", 1)[1])
        assert 0 < created == len(store_state(c))       # with the integrity check
        journal_matches(c)
    finally:
        subprocess.run(["umount", str(small)], check=True)


RENAMER = r"""
import os, sys
from calfs_util import ics
cal, me, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
done = []
for r in range(rounds):
    name = "shared%d.ics" % (r % 3)
    body = "%s-%d" % (me, r)
    data = ics(name[:-4], body)
    tmp = os.path.join(cal, "sed%s%d" % (me, r))     # the way sed -i writes
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(cal, name))
    done.append(body)
print("\n".join(done))
"""

READER = r"""
import os, sys, time
cal, stop = sys.argv[1], sys.argv[2]
reads = 0
while not os.path.exists(stop):
    for n in os.listdir(cal):
        if not n.endswith(".ics") or n.startswith("."):
            continue
        try:
            with open(os.path.join(cal, n), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        reads += 1
        if not (data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
                and data.count(b"BEGIN:VEVENT") == 1):
            print("torn read of %s: %r" % (n, data[:200]))
            sys.exit(1)
print(reads)
"""


@pytest.mark.parametrize("by", ["rename", "import"])
def test_a_read_is_whole_when_the_item_changes_while_open(calfs, by):
    """A file open for reading, read after its item was replaced by a
    shorter one (renamed over through the mount, or imported by another
    calfs process and seen through the change log), gives the whole
    rendering it opened.  The kernel reads through the page cache up to
    the size it was last told, and an attribute reply about the new
    version would cut the read short: while the old one is open, replies
    tell its size (view.c, told())."""
    long_, short = ics("x", "a long summary " * 4), ics("x", "short")
    calfs.import_items(MB, {"x.ics": long_})
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    path = cal / "x.ics"
    assert path.read_bytes() == long_
    assert os.stat(path).st_size == len(long_)
    with open(path, "rb") as f:         # through the page cache: its size is told
        cal_mtime = os.stat(cal).st_mtime_ns
        if by == "rename":
            (cal / "sedtmp").write_bytes(short)
            os.rename(cal / "sedtmp", path)
        else:
            assert "1 updated" in calfs.import_items(MB, {"x.ics": short}).stdout
        # the notifier invalidates the item's attributes, then the calendar's
        wait_for(lambda: os.stat(cal).st_mtime_ns != cal_mtime, what="the notifier")
        assert os.fstat(f.fileno()).st_size == len(long_)
        assert f.read() == long_
    wait_for(lambda: os.stat(path).st_size == len(short), what="the new size")
    assert path.read_bytes() == short
    calfs.umount()


def test_parallel_writers_readers_and_an_import(calfs, tmp_path):
    calfs.import_items(MB, {"seed.ics": ics("seed")})
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    src = tmp_path / "copies"
    src.mkdir()
    for i in range(200):
        (src / ("c%03d.ics" % i)).write_bytes(ics("c%03d" % i, "copy %d" % i))
    imp = tmp_path / "imp"
    imp.mkdir()
    for i in range(100):
        (imp / ("i%03d.ics" % i)).write_bytes(ics("i%03d" % i, "imported %d" % i))
    stop = tmp_path / "stop"
    readers = [subprocess.Popen(["python3", "-c", READER, str(cal), str(stop)],
                                stdout=subprocess.PIPE, text=True) for _ in range(3)]
    renamers = [subprocess.Popen(["python3", "-c", RENAMER, str(cal), "w%d" % k, "30"],
                                 stdout=subprocess.PIPE, text=True, env=HELPER_ENV)
                for k in range(4)]
    copy = subprocess.Popen("ls %s/*.ics | xargs -P 8 -I{} cp {} %s/" % (src, cal), shell=True)
    importer = calfs.run("import", MB, imp, check=False)
    assert copy.wait(timeout=120) == 0
    written = []
    for r in renamers:
        out, _ = r.communicate(timeout=120)
        assert r.returncode == 0
        written += out.split()
    stop.touch()
    for r in readers:
        out, _ = r.communicate(timeout=60)
        assert r.returncode == 0, out
        assert int(out) > 0
    assert importer.returncode == 0, importer.stderr
    assert "100 created" in importer.stdout
    # no lost update: every copy and every import is there, byte for byte
    for i in range(200):
        assert (cal / ("c%03d.ics" % i)).read_bytes() == ics("c%03d" % i, "copy %d" % i)
    for i in range(100):
        assert (cal / ("i%03d.ics" % i)).read_bytes() == ics("i%03d" % i, "imported %d" % i)
    # each rename over a shared name is one journaled update, and the last
    # one stored is one that was written
    db = calfs.db()
    for k in range(3):
        name = "shared%d.ics" % k
        n = db.one("select count(*) from journal where name = ? and op in "
                   "('create', 'update')", (name,))[0]
        assert n == sum(1 for w in written if int(w.split("-")[1]) % 3 == k), name
        body = (cal / name).read_bytes()
        assert any(body == ics(name[:-4], w) for w in written), name
    db.close()
    assert sorted(n for n in os.listdir(cal) if n.startswith("sed")) == []
    journal_matches(calfs)
    calfs.umount()


def test_unmount_drops_releases(calfs):
    """The kernel sends a close's release in the background, and an unmount
    drops those the daemon has not read: the daemon frees the handles it
    never got back.  The mount is detached while files and directories
    are open, then they are closed: the last close ends the connection
    with its release still queued.  A sanitized daemon reports a handle
    it did not free, which fails the test (the fixture reads its
    warnings)."""
    names = ["a%02d.ics" % i for i in range(40)]
    calfs.import_items(MB, {n: ics(n[:-4], "Alpha %s" % n) for n in names})
    for _ in range(3):
        calfs.mount()
        cal = calfs.path(MB, "Calendar")
        fds = [os.open(cal / n, os.O_RDONLY) for n in names]
        fds += [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in (cal, calfs.path(MB))]
        # a scratch file written and unlinked, still open
        fds.append(os.open(cal / "notes.txt", os.O_RDWR | os.O_CREAT, 0o644))
        os.write(fds[-1], b"draft")
        os.unlink(cal / "notes.txt")
        assert os.read(fds[0], 1 << 16) == ics("a00", "Alpha a00.ics")
        os.listdir(cal)
        subprocess.run(["fusermount3", "-u", "-z", str(calfs.mnt)], check=True)
        for fd in fds:
            os.close(fd)
        rc = calfs.proc.wait(timeout=20)
        calfs.proc = None
        assert rc == 0, "daemon exited with %d: %s" % (rc, calfs.log_text())
        assert not is_mounted(calfs.mnt)
        # The kernel may answer the daemon's read with ECONNABORTED here,
        # which libfuse 3.14 prints on standard error (in the foreground)
        # as it returns it; calfs takes it as the end of the mount, says
        # so and exits 0.
        log = calfs.log.read_text()
        if LIBFUSE_ABORTED in log:
            assert "the kernel ended the connection" in log, log
            calfs.log.write_text(log.replace(LIBFUSE_ABORTED, ""))
