"""The mount, used with the tools administrators use."""
import errno
import os
import shutil
import subprocess
import tempfile

import pytest

from calfs_util import GEN, ics, wait_for

MB = "alice@example.com"


def cal(c, *rest):
    return c.path(MB, "Calendar", *rest)


def sh(*cmd, check=True, **kw):
    r = subprocess.run([str(x) for x in cmd], capture_output=True, text=True, **kw)
    if check:
        assert r.returncode == 0, "%s: %s%s" % (cmd, r.stdout, r.stderr)
    return r


def test_tree(mounted):
    top = sorted(os.listdir(mounted.mnt))
    assert top == [".Trash", ".calfs", ".raw", MB]
    assert sorted(os.listdir(mounted.path(MB))) == [".calfs", "Calendar"]
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics"]
    assert sorted(os.listdir(mounted.path(".raw", MB, "Calendar"))) == ["a.ics", "b.ics"]
    out = sh("ls", "-l", cal(mounted)).stdout
    assert "a.ics" in out and "b.ics" in out
    found = sh("find", mounted.mnt, "-path", mounted.path(".raw"), "-prune",
               "-o", "-name", "*.ics", "-print").stdout.split()
    assert sorted(os.path.basename(f) for f in found) == ["a.ics", "b.ics"]
    st = os.stat(cal(mounted, "a.ics"))
    assert st.st_size == len(ics("a", "Alpha"))


def test_read_equals_render(mounted, tmp_path):
    out = tmp_path / "export"
    mounted.run("export", MB + "/Calendar", out)
    for name in ("a.ics", "b.ics"):
        data = cal(mounted, name).read_bytes()
        assert data == (out / name).read_bytes()
        assert os.stat(cal(mounted, name)).st_size == len(data)
        assert subprocess.run(["cat", str(cal(mounted, name))], check=True,
                              capture_output=True).stdout == data


def test_cp_new_and_replace(mounted, tmp_path):
    src = tmp_path / "c.ics"
    src.write_bytes(ics("c", "Charlie"))
    sh("cp", src, cal(mounted, "c.ics"))
    assert cal(mounted, "c.ics").read_bytes() == src.read_bytes()
    assert mounted.path(".raw", MB, "Calendar", "c.ics").read_bytes() == src.read_bytes()
    ino = os.stat(cal(mounted, "c.ics")).st_ino
    src.write_bytes(ics("c", "Charlie two"))
    sh("cp", src, cal(mounted, "c.ics"))
    assert cal(mounted, "c.ics").read_bytes() == src.read_bytes()
    assert os.stat(cal(mounted, "c.ics")).st_ino == ino
    out = tmp_path / "export"
    mounted.run("export", MB + "/Calendar", out)
    assert (out / "c.ics").read_bytes() == src.read_bytes()


def test_grep_and_find_newer(mounted, tmp_path):
    r = sh("grep", "-rl", "SUMMARY:Bravo", mounted.path(MB))
    assert r.stdout.split() == [str(cal(mounted, "b.ics"))]
    marker = tmp_path / "marker"
    marker.touch()
    os.utime(marker, ns=(os.stat(cal(mounted, "b.ics")).st_mtime_ns + 1,) * 2)
    cal(mounted, "b.ics").write_bytes(ics("b", "Bravo newer"))
    r = sh("find", cal(mounted), "-newer", marker, "-name", "*.ics")
    assert r.stdout.split() == [str(cal(mounted, "b.ics"))]


def test_sed_i(mounted):
    before = os.stat(cal(mounted, "a.ics"))
    sh("sed", "-i", "s/SUMMARY:Alpha/SUMMARY:Edited by sed/", cal(mounted, "a.ics"))
    assert b"SUMMARY:Edited by sed" in cal(mounted, "a.ics").read_bytes()
    after = os.stat(cal(mounted, "a.ics"))
    assert after.st_ino == before.st_ino
    assert after.st_mtime_ns > before.st_mtime_ns
    # sed's temporary file is gone, nothing else appeared
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics"]


def test_vim_edit(mounted):
    env = dict(os.environ, HOME=str(mounted.dir))
    sh("vim", "-es", "-u", "NONE", "-c", "%s/SUMMARY:Alpha/SUMMARY:Edited by vim/",
       "-c", "wq", cal(mounted, "a.ics"), env=env, stdin=subprocess.DEVNULL)
    assert b"SUMMARY:Edited by vim" in cal(mounted, "a.ics").read_bytes()
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics"]


def test_vim_with_backup_and_swap(mounted):
    # vim's defaults of a user: a backup by rename (a.ics~), a swap file
    env = dict(os.environ, HOME=str(mounted.dir))
    sh("vim", "-es", "-u", "NONE", "-c", "set backup nowritebackup backupcopy=no",
       "-c", "set swapfile directory=.", "-c", "%s/Alpha/Backup/", "-c", "wq",
       cal(mounted, "a.ics"), env=env, stdin=subprocess.DEVNULL, cwd=cal(mounted))
    assert b"SUMMARY:Backup" in cal(mounted, "a.ics").read_bytes()
    names = sorted(os.listdir(cal(mounted)))
    assert "a.ics" in names
    # the backup is a scratch file with the old bytes
    if "a.ics~" in names:
        assert b"SUMMARY:Alpha" in cal(mounted, "a.ics~").read_bytes()


def test_mv_and_rm(mounted):
    data = cal(mounted, "a.ics").read_bytes()
    sh("mv", cal(mounted, "a.ics"), cal(mounted, "renamed.ics"))
    assert sorted(os.listdir(cal(mounted))) == ["b.ics", "renamed.ics"]
    assert cal(mounted, "renamed.ics").read_bytes() == data
    sh("rm", cal(mounted, "renamed.ics"))
    assert sorted(os.listdir(cal(mounted))) == ["b.ics"]
    assert not cal(mounted, "renamed.ics").exists()
    assert sorted(os.listdir(mounted.path(".raw", MB, "Calendar"))) == ["b.ics"]


def test_mv_over_other_item(mounted):
    sh("mv", cal(mounted, "a.ics"), cal(mounted, "b.ics"))
    assert os.listdir(cal(mounted)) == ["b.ics"]
    assert b"SUMMARY:Alpha" in cal(mounted, "b.ics").read_bytes()


def test_item_to_scratch_and_back(mounted):
    data = cal(mounted, "a.ics").read_bytes()
    os.rename(cal(mounted, "a.ics"), cal(mounted, "a.ics.bak"))
    assert sorted(os.listdir(cal(mounted))) == ["a.ics.bak", "b.ics"]
    assert cal(mounted, "a.ics.bak").read_bytes() == data
    assert sorted(os.listdir(mounted.path(".raw", MB, "Calendar"))) == ["b.ics"]
    os.rename(cal(mounted, "a.ics.bak"), cal(mounted, "a.ics"))
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics"]
    assert cal(mounted, "a.ics").read_bytes() == data


def test_scratch_files_are_plain(mounted):
    p = cal(mounted, "notes.txt")
    p.write_bytes(b"not a calendar\x00\xff")
    assert p.read_bytes() == b"not a calendar\x00\xff"
    assert "notes.txt" in os.listdir(cal(mounted))
    with open(p, "r+b") as f:
        f.seek(4)
        f.write(b"XX")
        f.truncate(8)
    assert p.read_bytes() == b"not XXca"
    os.unlink(p)
    assert "notes.txt" not in os.listdir(cal(mounted))


def test_tempfile_replace(mounted):
    with tempfile.NamedTemporaryFile(dir=cal(mounted), delete=False,
                                     suffix=".tmp") as f:
        f.write(ics("t", "Tempfile"))
        f.flush()
        os.fsync(f.fileno())
        os.fchmod(f.fileno(), 0o644)
    os.replace(f.name, cal(mounted, "t.ics"))
    assert cal(mounted, "t.ics").read_bytes() == ics("t", "Tempfile")
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics", "t.ics"]
    # and over an existing item
    with tempfile.NamedTemporaryFile(dir=cal(mounted), delete=False) as f:
        f.write(ics("a", "Replaced"))
    os.replace(f.name, cal(mounted, "a.ics"))
    assert cal(mounted, "a.ics").read_bytes() == ics("a", "Replaced")


def test_link_then_unlink(mounted):
    tmp = cal(mounted, ".tmp-link")
    tmp.write_bytes(ics("l", "Linked"))
    os.link(tmp, cal(mounted, "l.ics"))
    os.unlink(tmp)
    assert sorted(os.listdir(cal(mounted))) == ["a.ics", "b.ics", "l.ics"]
    assert cal(mounted, "l.ics").read_bytes() == ics("l", "Linked")
    tmp.write_bytes(ics("l", "again"))
    with pytest.raises(FileExistsError):
        os.link(tmp, cal(mounted, "l.ics"))
    os.unlink(tmp)


def refused(c, what):
    text = c.path(".calfs", "errors").read_text()
    assert what in text, text
    assert what in c.path(MB, ".calfs", "errors").read_text()


def test_invalid_cp_refused(mounted, tmp_path):
    old = cal(mounted, "a.ics").read_bytes()
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"this is not a calendar\n")
    r = sh("cp", bad, cal(mounted, "a.ics"), check=False)
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr
    assert cal(mounted, "a.ics").read_bytes() == old
    assert mounted.path(".raw", MB, "Calendar", "a.ics").read_bytes() == old
    refused(mounted, MB + "/Calendar/a.ics: refused: does not begin with BEGIN:VCALENDAR")
    assert "refused" in mounted.log_text()


def test_invalid_new_file_leaves_nothing(mounted, tmp_path):
    bad = tmp_path / "bad.ics"
    bad.write_bytes(ics("x", "x")[:-30])
    r = sh("cp", bad, cal(mounted, "new.ics"), check=False)
    assert r.returncode != 0
    wait_for(lambda: "new.ics" not in os.listdir(cal(mounted)), 2,
             "the refused file to go away")


def test_invalid_rename_refused(mounted):
    old = cal(mounted, "a.ics").read_bytes()
    tmp = cal(mounted, "sedXYZ123")
    tmp.write_bytes(ics("a", "two", "END:VEVENT\nBEGIN:VEVENT\nUID:zz"))
    with pytest.raises(OSError) as e:
        os.rename(tmp, cal(mounted, "a.ics"))
    assert e.value.errno == errno.EINVAL
    assert cal(mounted, "a.ics").read_bytes() == old
    refused(mounted, "refused: two UIDs (a, zz)")
    os.unlink(tmp)


def test_sed_breaking_item_refused(mounted):
    old = cal(mounted, "a.ics").read_bytes()
    r = sh("sed", "-i", "s/BEGIN:VEVENT/BEGIN:VEVENTX/", cal(mounted, "a.ics"),
           check=False)
    assert r.returncode != 0
    assert cal(mounted, "a.ics").read_bytes() == old


def test_duplicate_uid_refused(mounted, tmp_path):
    src = tmp_path / "dup.ics"
    src.write_bytes(ics("a", "same UID as a.ics"))
    r = sh("cp", src, cal(mounted, "dup.ics"), check=False)
    assert r.returncode != 0
    refused(mounted, "UID a is already used by a.ics")


def test_mkdir_rmdir(mounted):
    os.mkdir(mounted.path("bob@example.com"))
    os.mkdir(mounted.path("bob@example.com", "Work"))
    assert os.listdir(mounted.path("bob@example.com")) == [".calfs", "Work"]
    mounted.path("bob@example.com", "Work", "w.ics").write_bytes(ics("w"))
    with pytest.raises(OSError) as e:
        os.rmdir(mounted.path("bob@example.com", "Work"))
    assert e.value.errno == errno.ENOTEMPTY
    with pytest.raises(OSError) as e:
        os.rmdir(mounted.path("bob@example.com"))
    assert e.value.errno == errno.ENOTEMPTY
    os.unlink(mounted.path("bob@example.com", "Work", "w.ics"))
    os.rmdir(mounted.path("bob@example.com", "Work"))
    os.rmdir(mounted.path("bob@example.com"))
    assert "bob@example.com" not in os.listdir(mounted.mnt)


def test_directory_mtime_follows_children(mounted):
    d0 = os.stat(cal(mounted)).st_mtime_ns
    cal(mounted, "n.ics").write_bytes(ics("n"))
    d1 = os.stat(cal(mounted)).st_mtime_ns
    assert d1 > d0
    os.unlink(cal(mounted, "n.ics"))
    assert os.stat(cal(mounted)).st_mtime_ns > d1


def test_root_mtime_follows_mailboxes(mounted):
    r0 = os.stat(mounted.mnt).st_mtime_ns
    os.mkdir(mounted.path("carol@example.com"))
    r1 = os.stat(mounted.mnt).st_mtime_ns
    assert r1 > r0
    os.rmdir(mounted.path("carol@example.com"))
    assert os.stat(mounted.mnt).st_mtime_ns > r1


def test_mtime_nanoseconds(mounted):
    m = {os.stat(cal(mounted, n)).st_mtime_ns % 1000000000 for n in ("a.ics", "b.ics")}
    assert m != {0}


def test_xattrs(mounted):
    p = cal(mounted, "a.ics")
    assert os.getxattr(p, "user.calfs.uid") == b"a"
    etag = os.getxattr(p, "user.calfs.etag")
    assert len(etag) == 40
    assert set(os.listxattr(p)) >= {"user.calfs.uid", "user.calfs.etag",
                                   "user.calfs.fixes"}
    r = sh("getfattr", "-n", "user.calfs.uid", "--only-values", p)
    assert r.stdout == "a"
    p.write_bytes(ics("a", "changed"))
    assert os.getxattr(p, "user.calfs.etag") != etag
    with pytest.raises(OSError) as e:
        os.getxattr(p, "user.other")
    assert e.value.errno == errno.ENODATA
    # what calfs has none of is "not supported", which ls -l remembers
    # for the whole mount instead of asking every file twice
    for name in ("security.selinux", "system.posix_acl_access"):
        with pytest.raises(OSError) as e:
            os.getxattr(p, name)
        assert e.value.errno == errno.EOPNOTSUPP


def test_raw_view_read_only(mounted):
    raw = mounted.path(".raw", MB, "Calendar", "a.ics")
    assert raw.read_bytes() == ics("a", "Alpha")
    with pytest.raises(OSError) as e:
        raw.write_bytes(b"x")
    assert e.value.errno in (errno.EROFS, errno.EACCES)
    with pytest.raises(OSError):
        os.unlink(raw)
    assert raw.read_bytes() == ics("a", "Alpha")


def test_status_and_errors_files(mounted):
    status = mounted.path(".calfs", "status").read_text()
    assert "items: 2" in status
    assert "mailboxes: 1" in status
    assert "repair_on_read=true" in status
    assert mounted.path(".calfs", "errors").read_text() == ""
    cal(mounted, "n.ics").write_bytes(ics("n"))
    assert "items: 3" in mounted.path(".calfs", "status").read_text()


def test_displayname_and_color(mounted):
    (cal(mounted, "displayname")).write_text("Alice's calendar\n")
    assert cal(mounted, "displayname").read_text() == "Alice's calendar"
    sh("sh", "-c", "echo '#ff0000' > '%s'" % cal(mounted, "color"))
    assert cal(mounted, "color").read_text() == "#ff0000"
    assert {"displayname", "color"} <= set(os.listdir(cal(mounted)))
    os.unlink(cal(mounted, "color"))
    assert "color" not in os.listdir(cal(mounted))


def test_chmod_chown_utime_on_items(mounted):
    p = cal(mounted, "a.ics")
    os.chmod(p, 0o600)
    os.chown(p, os.getuid(), os.getgid())
    os.utime(p, (0, 0))
    sh("touch", p)
    assert p.read_bytes() == ics("a", "Alpha")


def test_mailbox_chmod(mounted):
    os.chmod(mounted.path(MB), 0o750)
    assert os.stat(mounted.path(MB)).st_mode & 0o777 == 0o750


def test_import_in_second_process_seen_within_a_second(mounted):
    new = cal(mounted, "late.ics")
    assert not new.exists()          # the kernel caches this negative entry
    os.listdir(cal(mounted))
    old_b = cal(mounted, "b.ics").read_bytes()
    mounted.import_items(MB, {"late.ics": ics("late", "Imported"),
                              "b.ics": ics("b", "Bravo updated elsewhere")})
    wait_for(new.exists, 1.0, "the imported item")
    assert new.read_bytes() == ics("late", "Imported")
    wait_for(lambda: cal(mounted, "b.ics").read_bytes() != old_b, 1.0,
             "the updated item")
    assert cal(mounted, "b.ics").read_bytes() == ics("b", "Bravo updated elsewhere")


def test_import_into_a_new_calendar_seen_within_seconds(mounted):
    """Another process imports a new calendar of more items than a batch
    holds: written without waiting for each (PostgreSQL), its change log
    one statement a batch.  The mount, which cached that the calendar was
    not there, lists and serves every item within seconds (its kernel
    cache lasts 10), as it heard of each change."""
    folder = mounted.path(MB, "Imported")
    assert not folder.exists()
    assert "Imported" not in os.listdir(mounted.path(MB))    # the kernel caches these
    items = {"n%03d.ics" % i: ics("n%03d" % i, "New %d" % i) for i in range(300)}
    r = mounted.import_items(MB + "/Imported", items)
    assert "300 created" in r.stdout, r.stdout
    wait_for(lambda: "Imported" in os.listdir(mounted.path(MB)), 5, "the imported calendar")
    wait_for(lambda: sorted(os.listdir(folder)) == sorted(items), 5, "its items")
    for name in ("n000.ics", "n150.ics", "n299.ics"):
        assert (folder / name).read_bytes() == items[name]


def test_read_ahead_never_serves_old_bytes(mounted):
    """Reading one item reads the items of its calendar ahead, in one
    query; one of them changed afterwards by another process is read as it
    is now, not as it was read ahead."""
    new = ics("d", "Delta changed after the read-ahead")
    mounted.import_items(MB, {"c.ics": ics("c", "Charlie"), "d.ics": ics("d", "Delta")})
    wait_for(cal(mounted, "c.ics").exists, 1.0, "the imported items")
    assert cal(mounted, "c.ics").read_bytes() == ics("c", "Charlie")   # reads d ahead
    mounted.import_items(MB, {"d.ics": new})
    # d was never looked up: its first lookup asks the mount, which reads
    # the store anew (a rendering of the bytes read ahead would be the
    # size of the old ones)
    assert os.stat(cal(mounted, "d.ics")).st_size == len(new)
    assert cal(mounted, "d.ics").read_bytes() == new


def test_inodes_stable_across_remount(mounted):
    before = {n: os.stat(cal(mounted, n)).st_ino for n in ("a.ics", "b.ics")}
    mounted.umount()
    mounted.mount()
    after = {n: os.stat(cal(mounted, n)).st_ino for n in ("a.ics", "b.ics")}
    assert before == after


def test_generated_organisation(calfs, tmp_path):
    src = tmp_path / "org"
    sh(GEN, "--mailboxes", "3", "--items", "10", "--export-items", "15", src)
    for box in sorted(os.listdir(src)):
        calfs.run("import", box, src / box / "Calendar", src / box / "export.ics")
    calfs.mount()
    total = 0
    for box in sorted(os.listdir(src)):
        names = [n for n in os.listdir(calfs.path(box, "Calendar")) if n.endswith(".ics")]
        assert len(names) == 25
        total += len(names)
        for n in names:
            data = calfs.path(box, "Calendar", n).read_bytes()
            assert data.startswith(b"BEGIN:VCALENDAR")
    assert "items: %d" % total in calfs.path(".calfs", "status").read_text()
    calfs.umount()


# ---- what file managers and shells do ----

def journal_counts(c):
    """created, updated, deleted of the newest journal run."""
    line = c.run("journal").stdout.splitlines()[1].split("\t")
    return int(line[2]), int(line[3]), int(line[4])


@pytest.mark.skipif(not shutil.which("gio"), reason="gio (libglib2.0-bin) is not installed")
def test_gio_trash_restore_and_empty(mounted):
    """gio trash moves an item to MNT/.Trash/UID (deleted from the store,
    journaled); renamed back as a file manager restores it, it is stored
    again; emptying the trash removes it from the trash only."""
    env = dict(os.environ, GIO_USE_VFS="local")
    sh("gio", "trash", cal(mounted, "a.ics"), env=env)
    assert sorted(os.listdir(cal(mounted))) == ["b.ics"]
    trash = mounted.path(".Trash", str(os.getuid()))
    assert os.stat(mounted.path(".Trash")).st_mode & 0o1777 == 0o1777
    assert os.listdir(trash / "files") == ["a.ics"]
    info = (trash / "info" / "a.ics.trashinfo").read_text()
    assert "Path=alice%40example.com/Calendar/a.ics" in info
    assert b"Alpha" in (trash / "files" / "a.ics").read_bytes()
    assert "a.ics" not in mounted.run("export", MB, check=False).stdout
    wait_for(lambda: journal_counts(mounted)[2] == 1, 5, "the deletion in the journal")

    # restore: the file back where its .trashinfo says, the info gone
    os.rename(trash / "files" / "a.ics", cal(mounted, "a.ics"))
    os.unlink(trash / "info" / "a.ics.trashinfo")
    assert b"Alpha" in cal(mounted, "a.ics").read_bytes()
    assert os.listdir(trash / "files") == [] and os.listdir(trash / "info") == []

    # trash again and empty the trash: gone from the trash, nothing else
    sh("gio", "trash", cal(mounted, "a.ics"), env=env)
    for d in ("files", "info"):
        for n in os.listdir(trash / d):
            os.unlink(trash / d / n)
    assert sorted(os.listdir(cal(mounted))) == ["b.ics"]
    assert os.listdir(trash / "files") == []
    assert b"Bravo" in cal(mounted, "b.ics").read_bytes()
    assert mounted.path(".calfs", "errors").read_text() == ""

    # the other place the spec gives: MNT/.Trash-UID, made by its user
    dashed = mounted.path(".Trash-%d" % os.getuid())
    os.mkdir(dashed)
    assert sorted(os.listdir(dashed)) == ["files", "info"]
    with pytest.raises(FileExistsError):
        os.mkdir(dashed)
    os.rename(cal(mounted, "b.ics"), dashed / "files" / "b.ics")
    assert os.listdir(cal(mounted)) == []
    os.rename(dashed / "files" / "b.ics", cal(mounted, "b.ics"))
    assert b"Bravo" in cal(mounted, "b.ics").read_bytes()


def test_bash_redirection(mounted, tmp_path):
    """cat new > item.ics: bash opens with O_TRUNC, dup2()s and closes the
    first descriptor before writing; that flush is no refusal.  A
    redirection that leaves the item empty is."""
    new = tmp_path / "new.ics"
    new.write_bytes(ics("a", "Alpha by bash"))
    sh("bash", "-c", 'cat "$1" > "$2"', "-", new, cal(mounted, "a.ics"))
    assert b"Alpha by bash" in cal(mounted, "a.ics").read_bytes()
    # the shell's own builtin, through a saved and restored stdout
    (tmp_path / "b.ics").write_bytes(ics("b", "Bravo by bash"))
    sh("bash", "-c", 'printf "%s\\n" "$(cat "$1")" > "$2"', "-", tmp_path / "b.ics",
       cal(mounted, "b.ics"))
    assert b"Bravo by bash" in cal(mounted, "b.ics").read_bytes()
    assert mounted.path(".calfs", "errors").read_text() == ""

    sh("bash", "-c", ': > "$1"', "-", cal(mounted, "a.ics"), check=False)
    assert b"Alpha by bash" in cal(mounted, "a.ics").read_bytes()
    wait_for(lambda: "a.ics: refused: empty" in mounted.path(".calfs", "errors").read_text(),
             5, "the refusal in .calfs/errors")


def test_meta_by_rename_and_link(mounted):
    """displayname and color set by a scratch file renamed or linked over
    them (vdirsyncer, tempfile + os.replace, atomicwrites without
    overwrite)."""
    c = cal(mounted)
    (c / "tmp1").write_text("Team calendar\n")
    os.replace(c / "tmp1", c / "displayname")
    assert (c / "displayname").read_text() == "Team calendar"
    assert "tmp1" not in os.listdir(c)
    (c / "tmp2").write_text("#ff0000")
    os.link(c / "tmp2", c / "color")
    os.unlink(c / "tmp2")
    assert (c / "color").read_text() == "#ff0000"
    (c / "tmp3").write_text("#00ff00")
    with pytest.raises(FileExistsError):
        os.link(c / "tmp3", c / "color")
    os.replace(c / "tmp3", c / "color")
    assert (c / "color").read_text() == "#00ff00"
    # an item is no colour
    with pytest.raises(PermissionError):
        os.replace(c / "a.ics", c / "color")
    assert sorted(os.listdir(c)) == ["a.ics", "b.ics", "color", "displayname"]
    assert mounted.path(".calfs", "errors").read_text() == ""
