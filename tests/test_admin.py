"""What administrators do: calfs fix and undo on a generated organisation,
the scripts, change notification seen by inotify, calfs check."""
import os
import random
import shutil
import signal
import subprocess

import pytest

from calfs_util import CALFS, GEN, ROOT, Calfs, ics, wait_for

SCRIPTS = ROOT / "scripts"
MAILBOXES = 200


@pytest.fixture(scope="module")
def org_stores(tmp_path_factory):
    """Stores of a generated organisation, one per backend, each made once."""
    made = {}
    base = tmp_path_factory.mktemp("org")
    src = base / "src"
    subprocess.run([str(GEN), "--mailboxes", str(MAILBOXES), "--items", "3",
                    "--export-items", "2", "--broken", "0.3", "--seed", "7", str(src)],
                   check=True, capture_output=True)
    return base, src, made


@pytest.fixture
def org(org_stores, store_backend):
    """A store of a generated organisation: MAILBOXES mailboxes, with
    broken track-status times and old-rule items."""
    base, src, made = org_stores
    if store_backend not in made:
        (base / store_backend).mkdir()
        c = Calfs(base / store_backend)
        for box in sorted(os.listdir(src)):
            c.run("import", box, src / box / "Calendar", src / box / "export.ics")
        made[store_backend] = c.store
    return made[store_backend]


@pytest.fixture
def fresh():
    """A factory of Calfs on a copy of a store; whatever they mounted is
    unmounted after the test even when it fails, and any warning the
    daemons printed fails the test."""
    made = []

    def make(tmp_path, store):
        c = Calfs(tmp_path, copy=store)
        made.append(c)
        return c
    yield make
    for c in made:
        c.cleanup()
    for c in made:
        bad = c.warnings()
        assert not bad, "daemon printed warnings:\n" + "\n".join(bad)


def dump(c):
    """The items of a store: what must come back byte for byte."""
    db = c.db()
    rows = db.execute("select calendar_id, name, uid, data from items order by id")
    db.check_integrity()
    db.close()
    return rows


def views(c):
    """Every item as the mount's read view shows it, by path."""
    out = {}
    for box in sorted(os.listdir(c.mnt)):
        if box.startswith("."):
            continue
        for cal in os.listdir(c.path(box)):
            if cal.startswith("."):
                continue
            for name in os.listdir(c.path(box, cal)):
                if name.endswith(".ics"):
                    out["%s/%s/%s" % (box, cal, name)] = c.path(box, cal, name).read_bytes()
    return out


def raws(c, paths):
    return {p: c.path(".raw", p).read_bytes() for p in paths}


def test_fix_persists_exactly_the_view(org, tmp_path, fresh):
    c = fresh(tmp_path, org)
    c.mount()
    before_view = views(c)
    before_raw = raws(c, before_view)
    to_fix = {p for p in before_view if before_view[p] != before_raw[p]}
    assert len(to_fix) > 20
    report = c.path(".calfs", "status").read_text()
    assert "items to fix: %d" % len(to_fix) in report
    # fixed in another process while mounted
    r = c.run("fix", "--jobs", "2")
    assert "%d changed" % len(to_fix) in r.stderr, r.stderr
    after_raw = raws(c, before_view)
    assert after_raw == before_view          # the raw view is the repaired view
    changed = {p for p in before_view if after_raw[p] != before_raw[p]}
    assert changed == to_fix                 # and nothing else changed
    assert "items to fix: 0" in c.path(".calfs", "status").read_text()
    r = c.run("fix")
    assert " 0 changed" in r.stderr
    # the mailbox's log names the run
    box = sorted(to_fix)[0].split("/")[0]
    assert "(fix): update" in c.path(box, ".calfs", "log").read_text()
    c.umount()


def test_listing_after_fix_tells_the_sizes_read(org, tmp_path, fresh):
    """A listing of items calfs fix found clean answers from the stored
    rows (no rendering): the sizes it gives are those of what is read."""
    c = fresh(tmp_path, org)
    c.run("fix")
    c.mount()
    listed = {}
    for box in os.scandir(c.mnt):
        if box.name.startswith("."):
            continue
        for cal in os.scandir(box.path):
            if cal.name.startswith(".") or not cal.is_dir():
                continue
            for e in os.scandir(cal.path):
                if e.name.endswith(".ics"):
                    listed["%s/%s/%s" % (box.name, cal.name, e.name)] = e.stat().st_size
    read = views(c)
    assert len(read) > 20
    assert listed == {p: len(b) for p, b in read.items()}
    c.umount()


def test_dry_run_changes_nothing(org, tmp_path, fresh):
    c = fresh(tmp_path, org)
    before = dump(c)
    r = c.run("fix", "--dry-run")
    assert "would change" in r.stderr
    lines = r.stdout.splitlines()
    assert lines and all("\t" in l for l in lines)
    assert dump(c) == before


def test_undo_restores_the_store(org, tmp_path, fresh):
    c = fresh(tmp_path, org)
    before = dump(c)
    c.run("fix")
    assert dump(c) != before
    runs = c.run("journal").stdout.splitlines()
    fix_run = [l.split("\t")[0] for l in runs[1:] if l.endswith("\tfix")][0]
    r = c.run("undo", fix_run)
    assert "changes undone" in r.stdout
    assert dump(c) == before
    # the undo is a run of its own, and can be undone
    undo_run = c.run("journal").stdout.splitlines()[1].split("\t")[0]
    c.run("undo", undo_run)
    assert dump(c) != before


def test_undo_brings_back_deleted_items(tmp_path):
    c = Calfs(tmp_path)
    c.import_items("alice@example.com", {"a.ics": ics("a"), "b.ics": ics("b")})
    before = dump(c)
    c.mount()
    os.unlink(c.path("alice@example.com", "Calendar", "a.ics"))
    c.path("alice@example.com", "Calendar", "b.ics").write_bytes(ics("b", "changed"))
    os.rename(c.path("alice@example.com", "Calendar", "b.ics"),
              c.path("alice@example.com", "Calendar", "c.ics"))
    c.umount()
    mount_run = [l.split("\t")[0] for l in c.run("journal").stdout.splitlines()[1:]
                 if "\tmount " in l][0]
    c.run("undo", mount_run)
    assert dump(c) == before


def test_interrupted_fix_then_rerun(org, tmp_path, fresh):
    (tmp_path / "once").mkdir()
    once = fresh(tmp_path / "once", org)
    once.run("fix")
    expected = dump(once)

    (tmp_path / "killed").mkdir()
    c = fresh(tmp_path / "killed", org)
    db = c.db()
    start = db.one("select count(*) from journal")[0]
    stop_at = random.randint(1, 40)
    proc = subprocess.Popen([str(CALFS), "-c", str(c.conf), "fix", "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: db.one("select count(*) from journal")[0] - start >= stop_at
             or proc.poll() is not None, 60, "the fix to be under way")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db.close()
    c.run("fix")
    assert dump(c) == expected


def test_fix_named_mailboxes_and_failures(org, tmp_path, fresh):
    c = fresh(tmp_path, org)
    r = c.run("fix", "--mailbox", "alice@example.com", "--mailbox", "nobody@example.com",
              check=False)
    assert r.returncode == 1
    failed = c.failed_file
    assert failed.read_text() == "nobody@example.com\tno such mailbox\n"
    assert "--mailbox-file %s" % failed in r.stderr
    r = c.run("fix", "--mailbox-file", failed, check=False)
    assert r.returncode == 1


# ---- scripts ----

SCRIPT_NAMES = ["calfs-find-broken", "calfs-fix-through-mount", "calfs-batches",
                "calfs-tz-report", "demo"]


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_script_help(name):
    r = subprocess.run([str(SCRIPTS / name), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage:")


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
def test_scripts_shellcheck_clean():
    r = subprocess.run(["shellcheck"] + [str(SCRIPTS / n) for n in SCRIPT_NAMES],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_scripts_on_the_mount(org, tmp_path, fresh):
    c = fresh(tmp_path, org)
    c.mount()
    broken = subprocess.run([str(SCRIPTS / "calfs-find-broken"), str(c.mnt)],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    ts = [l.split("\t")[0] for l in broken if l.endswith("\ttrack-status")]
    assert len(ts) > 10
    assert all(os.path.isfile(p) for p in ts)
    r = subprocess.run([str(SCRIPTS / "calfs-fix-through-mount"), "-j", "4"],
                       input="\n".join(broken) + "\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == len({l.split("\t")[0] for l in broken})
    again = subprocess.run([str(SCRIPTS / "calfs-find-broken"), str(c.mnt)],
                           capture_output=True, text=True, check=True).stdout
    assert "track-status" not in again
    out = tmp_path / "batches"
    subprocess.run([str(SCRIPTS / "calfs-batches"), str(c.mnt), "3", str(out)], check=True,
                   capture_output=True)
    names = sorted(n for f in sorted(os.listdir(out)) for n in (out / f).read_text().split())
    assert len(os.listdir(out)) == 3
    assert names == sorted(n for n in os.listdir(c.mnt) if not n.startswith("."))
    r = subprocess.run([str(SCRIPTS / "calfs-tz-report"), str(c.mnt)], capture_output=True,
                       text=True)
    assert r.stdout.split()[0] == "mailbox" and r.returncode in (0, 1)
    c.umount()


# ---- change notification and diagnostics ----

@pytest.mark.skipif(not shutil.which("inotifywait"), reason="inotify-tools is not installed")
def test_inotify_sees_changes_from_another_process(calfs):
    calfs.import_items("alice@example.com", {"a.ics": ics("a")})
    calfs.mount()
    cal = calfs.path("alice@example.com", "Calendar")
    events = calfs.dir / "events.txt"
    # a new item made by another process is listed within a second
    calfs.import_items("alice@example.com", {"new.ics": ics("new")})
    wait_for(lambda: "new.ics" in os.listdir(cal), 1.0, "the new item")
    # the kernel tells a deletion made elsewhere to those who watch the
    # file (IN_DELETE_SELF): FUSE_NOTIFY_DELETE sends no IN_DELETE to the
    # directory's watchers
    with open(events, "w") as out:
        watcher = subprocess.Popen(["stdbuf", "-oL", "inotifywait", "-m", "-e",
                                    "delete,delete_self", "--format", "%e %w%f",
                                    str(cal), str(cal / "new.ics")],
                                   stdout=out, stderr=subprocess.PIPE, text=True)
        try:
            assert "Watches established" in watcher.stderr.readline() + \
                watcher.stderr.readline()
            # deleted by calfs in another process
            run = calfs.run("journal").stdout.splitlines()[1].split("\t")[0]
            calfs.run("undo", run)
            wait_for(lambda: "DELETE_SELF %s" % (cal / "new.ics") in events.read_text(),
                     1.0, "inotify")
            assert os.listdir(cal) == ["a.ics"]
        finally:
            watcher.terminate()
            watcher.wait()
    calfs.umount()


def test_check_healthy_mount(calfs):
    calfs.import_items("alice@example.com", {"a.ics": ics("a")})
    calfs.mount()
    r = calfs.run("check", calfs.mnt)
    lines = r.stdout.splitlines()
    assert all(l.startswith("ok ") for l in lines), r.stdout
    assert any(l.startswith("ok    notifications:") for l in lines)
    assert any(l.startswith("ok    mount:") for l in lines)
    calfs.umount()


def test_check_user_allow_other(calfs, tmp_path):
    calfs.import_items("alice@example.com", {"a.ics": ics("a")})
    fuse_conf = tmp_path / "fuse.conf"
    fuse_conf.write_text("# mount_max = 1000\n#user_allow_other\n")
    env = dict(os.environ, CALFS_FUSE_CONF=str(fuse_conf))
    r = calfs.run("check", "-o", "allow_other", check=False, env=env)
    assert r.returncode == 1
    assert ("FAIL  user_allow_other: allow_other is asked for, and %s does not allow it"
            % fuse_conf) in r.stdout
    assert "fix: add a line user_allow_other to %s" % fuse_conf in r.stdout
    fuse_conf.write_text("user_allow_other\n")
    r = calfs.run("check", "-o", "allow_other", env=env)
    assert "ok    user_allow_other" in r.stdout


def test_check_stale_mount(calfs):
    calfs.import_items("alice@example.com", {"a.ics": ics("a")})
    calfs.mount()
    calfs.proc.send_signal(signal.SIGKILL)
    calfs.proc.wait(timeout=20)
    calfs.proc = None
    try:
        r = calfs.run("check", calfs.mnt, check=False)
        assert r.returncode == 1
        assert "FAIL  mount: stale: the daemon that served it is gone; fix: fusermount3 -u %s" \
            % calfs.mnt in r.stdout
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(calfs.mnt)], capture_output=True)


def test_events_follow_with_tail(calfs):
    calfs.import_items("alice@example.com", {"a.ics": ics("a")})
    calfs.mount()
    events = calfs.path(".calfs", "events")
    assert "create alice@example.com/Calendar/a.ics" in events.read_text()
    out = calfs.dir / "tail.txt"
    with open(out, "w") as f:
        tail = subprocess.Popen(["tail", "-n", "0", "-f", str(events)], stdout=f)
        try:
            # a change made before tail took its place at the end is not
            # shown: make changes until one is, then it follows the file
            for n in range(5):
                calfs.import_items("alice@example.com", {"b%d.ics" % n: ics("b%d" % n)})
                try:
                    wait_for(lambda: "create alice@example.com/Calendar/b" in out.read_text(),
                             2, "tail -f to show a change")
                    break
                except AssertionError:
                    continue
            assert "create alice@example.com/Calendar/b" in out.read_text()
            os.unlink(calfs.path("alice@example.com", "Calendar", "a.ics"))
            wait_for(lambda: "delete alice@example.com/Calendar/a.ics" in out.read_text(),
                     5, "tail -f to show the deletion")
        finally:
            tail.terminate()
            tail.wait()
    calfs.umount()
