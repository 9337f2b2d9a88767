"""The calfs command: help, configuration errors, the fstab form, two
daemons on one store."""
import os
import subprocess

import pytest

from calfs_util import BUILD, CALFS, Calfs, ics, wait_for

MB = "alice@example.com"


@pytest.mark.parametrize("cmd", ["mount", "import", "export"])
def test_help(cmd):
    r = subprocess.run([str(CALFS), cmd, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert ("calfs %s" % cmd) in r.stdout


def test_usage_errors(calfs):
    r = calfs.run("frobnicate", check=False)
    assert r.returncode == 2
    assert "'frobnicate' is not a command" in r.stderr
    r = calfs.run("import", MB, check=False)
    assert r.returncode == 2


def test_bad_conf_names_file_line_and_key(calfs):
    calfs.conf.write_text("[store]\npath=new.db\n[policy]\nrebase=maybe\n")
    calfs.mnt.mkdir()
    r = calfs.run("mount", "-f", calfs.mnt, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "calfs: %s:4: [policy] rebase: 'maybe' is not true or false" % calfs.conf
    assert not os.path.ismount(calfs.mnt)
    assert not (calfs.dir / "new.db").exists()


def test_missing_mountpoint(calfs):
    r = calfs.run("mount", "-f", calfs.dir / "nowhere", check=False)
    assert r.returncode == 1
    assert "nowhere" in r.stderr


def test_import_reports_and_skips_bad_files(calfs, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.ics").write_bytes(ics("good"))
    (src / "bad.ics").write_bytes(b"garbage\n")
    r = calfs.run("import", MB + "/Work", src, check=False)
    assert r.returncode == 1        # the rest is imported, as cp would
    assert "bad.ics: skipped: does not begin with BEGIN:VCALENDAR" in r.stderr
    assert "1 created" in r.stdout and "1 skipped" in r.stdout
    out = tmp_path / "out"
    calfs.run("export", MB + "/Work", out)
    assert sorted(os.listdir(out)) == ["good.ics"]
    # importing again changes nothing
    r = calfs.run("import", MB + "/Work", src / "good.ics")
    assert "1 unchanged" in r.stdout


def test_import_of_an_event_whose_end_is_missing(calfs, tmp_path):
    """A file whose VEVENT never ends but whose VCALENDAR does (as Exchange
    2003 and Teams wrote them) is imported with END:VEVENT added, and the
    import says so; it crashed calfs before (make fuzz)."""
    text = ics("open").replace(b"END:VEVENT\r\n", b"")
    (tmp_path / "open.ics").write_bytes(text)
    r = calfs.run("import", MB, tmp_path / "open.ics")
    assert "1 created" in r.stdout, r.stdout
    assert "open.ics: END lines the text left out added: END:VEVENT (rule L10)" in r.stderr
    db = calfs.db()
    (data,), = db.execute("select data from items")
    db.close()
    assert data == ics("open")


def test_import_tree(calfs, tmp_path):
    import mailbox
    org = tmp_path / "org"
    for box, cal, uid in [("alice@example.com", "Calendar", "a1"), ("alice@example.com", "Work", "a2"),
                          ("bob@example.com", "Calendar", "b1")]:
        (org / box / cal).mkdir(parents=True, exist_ok=True)
        (org / box / cal / (uid + ".ics")).write_bytes(ics(uid))
    (org / "alice@example.com" / "export.ics").write_bytes(ics("a3"))
    mailbox.Maildir(str(org / "bob@example.com" / "Maildir"))     # a Maildir, no calendar
    (org / "stray.txt").write_text("not a mailbox\n")
    r = calfs.run("import", "--tree", org)
    assert "stray.txt: skipped: not a directory" in r.stderr
    assert "4 created" in r.stdout, r.stdout
    calfs.mount()
    def ls(*parts):
        return sorted(n for n in os.listdir(calfs.path(*parts)) if n[0] != ".")
    assert ls() == ["alice@example.com", "bob@example.com"]
    assert ls("alice@example.com") == ["Calendar", "Work"]
    assert ls("alice@example.com", "Calendar") == ["a1.ics", "a3.ics"]
    assert ls("alice@example.com", "Work") == ["a2.ics"]
    assert ls("bob@example.com") == ["Calendar"]
    calfs.umount()
    # importing the tree again changes nothing
    r = calfs.run("import", "--tree", org)
    assert "4 unchanged" in r.stdout, r.stdout


def test_split_outlook_export_on_import(calfs, tmp_path):
    events = "".join("BEGIN:VEVENT\r\nUID:ev-%d\r\nDTSTAMP:20200101T000000Z\r\n"
                     "DTSTART:20200101T100000Z\r\nSUMMARY:event %d\r\nEND:VEVENT\r\n"
                     % (i, i) for i in range(500))
    export = tmp_path / "export.ics"
    export.write_bytes(("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outlook//EN\r\n"
                        + events + "END:VCALENDAR\r\n").encode())
    r = calfs.run("import", MB, export)
    assert "500 created" in r.stdout, r.stdout + r.stderr
    calfs.mount()
    names = os.listdir(calfs.path(MB, "Calendar"))
    assert len(names) == 500
    assert "ev-123.ics" in names
    assert b"SUMMARY:event 123" in calfs.path(MB, "Calendar", "ev-123.ics").read_bytes()
    calfs.umount()


def test_fstab_form_through_mount_fuse3(calfs):
    """What mount -t fuse.calfs STORE DIR -o ... runs (mount(8) resets PATH,
    so an installed calfs is needed there): mount.fuse3, which runs
    'calfs STORE DIR -o ...'."""
    calfs.import_items(MB, {"a.ics": ics("a")})
    calfs.mnt.mkdir()
    env = dict(os.environ, PATH="%s:%s" % (BUILD, os.environ["PATH"]))
    r = subprocess.run(["/sbin/mount.fuse3", str(calfs.store), str(calfs.mnt),
                        "-t", "calfs", "-o", "conf=%s,default_permissions" % calfs.conf],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    try:
        wait_for(lambda: os.path.ismount(calfs.mnt), 5, "the mount")
        assert os.listdir(calfs.path(MB, "Calendar")) == ["a.ics"]
        with open("/proc/mounts") as f:
            line = [l for l in f if str(calfs.mnt) in l][0]
        assert "fuse.calfs" in line and "default_permissions" in line
    finally:
        subprocess.run(["fusermount3", "-u", str(calfs.mnt)], check=True)
    assert not os.path.ismount(calfs.mnt)


def test_two_daemons_one_store(calfs, tmp_path):
    """A change through one mount reaches the other within a second."""
    calfs.import_items(MB, {"a.ics": ics("a", "Alpha"), "b.ics": ics("b")})
    calfs.mount()
    (tmp_path / "other").mkdir()
    other = Calfs(tmp_path / "other", share=calfs.store)
    other.mount()
    try:
        here = calfs.path(MB, "Calendar")
        there = other.path(MB, "Calendar")
        assert sorted(os.listdir(there)) == ["a.ics", "b.ics"]
        (there / "a.ics").read_bytes()          # cached in the kernel now
        assert (here / "b.ics").exists()
        os.unlink(there / "b.ics")
        wait_for(lambda: not (here / "b.ics").exists(), 1.0, "the deletion")
        (there / "c.ics").write_bytes(ics("c"))
        wait_for(lambda: (here / "c.ics").exists(), 1.0, "the new item")
        (there / "a.ics").write_bytes(ics("a", "Changed there"))
        wait_for(lambda: b"Changed there" in (here / "a.ics").read_bytes(), 1.0,
                 "the change")
        os.rename(there / "c.ics", there / "d.ics")
        wait_for(lambda: sorted(os.listdir(here)) == ["a.ics", "d.ics"]
                 and not (here / "c.ics").exists(), 1.0, "the rename")
    finally:
        other.umount()
        calfs.umount()
    assert not other.warnings()


def test_man_page_renders_and_names_every_command(tmp_path):
    """doc/calfs.1: man renders it without a warning, and it describes
    every command calfs --help lists; make install puts it, the scripts
    and calfs@.service in place."""
    import re
    import shutil
    from calfs_util import ROOT
    if not shutil.which("man"):
        pytest.skip("man is not installed")
    r = subprocess.run(["man", "--warnings", "-l", str(ROOT / "doc" / "calfs.1")],
                       capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and not r.stderr, r.stderr
    page = r.stdout
    helped = subprocess.run([str(CALFS), "--help"], capture_output=True, text=True).stdout
    commands = set(re.findall(r"^  ([a-z]+) ", helped, re.M))
    assert {"init", "mount", "import", "export", "tz", "fix", "undo", "journal",
            "check"} <= commands
    for c in commands:
        assert re.search(r"^       %s\b" % c, page, re.M), c
    for section in ("EXIT STATUS", "MOUNT.CONF", "THE MOUNT", "EXAMPLES"):
        assert section in page
    dry = subprocess.run(["make", "-n", "-C", str(ROOT), "install", "DESTDIR=%s" % tmp_path],
                         capture_output=True, text=True).stdout
    for wanted in ("share/man/man1/calfs.1", "calfs-find-broken", "calfs@.service"):
        assert wanted in dry, dry
