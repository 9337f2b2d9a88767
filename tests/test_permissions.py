"""Per-mailbox permissions, as real users: with allow_other and
default_permissions, owners from mount.conf keep everyone but themselves,
root and the admin who mounted out of their mailboxes, through every door
(the calendars, .raw/, .calfs/, xattrs)."""
import contextlib
import os
import shutil
import subprocess
import tempfile

import pytest

from calfs_util import Calfs, ics

PREFIX = "calfs-t-"
USERS = ("alice", "bob", "adm")
MAILBOX = {"alice": "alice@example.com", "bob": "bob@example.com"}
FUSE_CONF = "/etc/fuse.conf"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("useradd"),
    reason="needs root and useradd to create the test users")


def account(who):
    return PREFIX + who


def remove_users():
    for who in USERS:
        subprocess.run(["userdel", account(who)], capture_output=True)


@contextlib.contextmanager
def created_users():
    """Create the users (each with its own group, no home); remove them
    after, and any a crashed earlier run left."""
    remove_users()
    try:
        for who in USERS:
            subprocess.run(["useradd", "--no-create-home", "--user-group",
                            "--shell", "/bin/sh", account(who)], check=True)
        yield
    finally:
        remove_users()


@contextlib.contextmanager
def user_allow_other():
    """A non-root admin may ask for allow_other only when /etc/fuse.conf
    says user_allow_other: add it for the test, put the file back after."""
    try:
        with open(FUSE_CONF) as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    lines = (old or "").splitlines()
    if "user_allow_other" in (l.strip() for l in lines):
        yield
        return
    with open(FUSE_CONF, "w") as f:
        f.write((old or "") + ("\n" if old and not old.endswith("\n") else "")
                + "user_allow_other\n")
    try:
        yield
    finally:
        if old is None:
            os.unlink(FUSE_CONF)
        else:
            with open(FUSE_CONF, "w") as f:
                f.write(old)


@contextlib.contextmanager
def dev_fuse_for_users():
    """Debian makes /dev/fuse 0666 so that users can mount; some containers
    make it 0600.  Open it for the test, put the mode back after."""
    mode = os.stat("/dev/fuse").st_mode & 0o777
    if mode & 0o006 == 0o006:
        yield
        return
    os.chmod("/dev/fuse", 0o666)
    try:
        yield
    finally:
        os.chmod("/dev/fuse", mode)


def as_user(who, *cmd):
    """Run cmd as who ("root" runs it as is); (returncode, stderr)."""
    prefix = [] if who == "root" else ["runuser", "-u", account(who), "--"]
    r = subprocess.run(prefix + [str(c) for c in cmd], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


def store_items(c):
    db = c.db()
    try:
        return {(c, n): d for c, n, d in
                db.execute("select calendar_id, name, data from items")}
    finally:
        db.close()


@pytest.fixture
def org():
    """Users alice, bob and adm; a store with a mailbox each for alice and
    bob, owned by them in mount.conf, mounted by adm with allow_other and
    default_permissions.  The directory is adm's and readable by all, as an
    admin's would be."""
    with created_users(), user_allow_other(), dev_fuse_for_users():
        top = tempfile.mkdtemp(prefix="calfs-perm-", dir="/var/tmp")
        os.chmod(top, 0o755)
        c = Calfs(top, "".join("[mailbox %s]\nowner=%s\n" % (mb, account(who))
                               for who, mb in MAILBOX.items()))
        try:
            for who, mb in MAILBOX.items():
                c.import_items(mb, {"a.ics": ics("a", "Alpha"),
                                    "b.ics": ics("b", "Bravo")})
            # a file every user can copy in
            (c.dir / "new.ics").write_bytes(ics("new", "New"))
            for who in USERS + ("root",):
                (c.dir / ("made-%s.ics" % who)).write_bytes(ics("made-" + who))
            c.mnt.mkdir()
            subprocess.run(["chown", "-R", account("adm") + ":", top], check=True)
            c.mount("allow_other", "default_permissions", user=account("adm"))
            yield c
        finally:
            c.cleanup()
            shutil.rmtree(top, ignore_errors=True)
        bad = c.warnings()
        assert not bad, "daemon printed warnings:\n" + "\n".join(bad)


def reads(c, mb):
    """Commands that only read mailbox mb, by what they try."""
    cal = c.path(mb, "Calendar")
    return {
        "list the mailbox": ["ls", c.path(mb)],
        "list the calendar": ["ls", "-l", cal],
        "read an item": ["cat", cal / "a.ics"],
        "read an item's xattr": ["getfattr", "-n", "user.calfs.fixes", cal / "a.ics"],
        "list its xattrs": ["getfattr", "-d", "-m", "-", cal / "a.ics"],
        "list .raw/": ["ls", c.path(".raw", mb, "Calendar")],
        "read .raw/": ["cat", c.path(".raw", mb, "Calendar", "a.ics")],
        "read its .calfs/log": ["cat", c.path(mb, ".calfs", "log")],
        "read its .calfs/timezone": ["cat", c.path(mb, ".calfs", "timezone")],
        "find in it": ["find", c.path(mb), "-name", "*.ics"],
    }


def writes(c, mb, who, own):
    """Commands that change mailbox mb, as who, whose own calendar is own
    (None for root and adm)."""
    cal = c.path(mb, "Calendar")
    mine = "%s.ics" % who
    w = {
        "overwrite an item": ["cp", c.dir / "new.ics", cal / "a.ics"],
        "create an item": ["cp", c.dir / ("made-%s.ics" % who), cal / mine],
        "edit in place": ["sed", "-i", "s/Bravo/Edited/", cal / "b.ics"],
        "rename in it": ["mv", cal / "b.ics", cal / ("renamed-" + mine)],
        "delete an item": ["rm", cal / ("renamed-" + mine)],
        "make a calendar": ["mkdir", c.path(mb, "Cal-" + who)],
        "set its timezone": ["sh", "-c", 'echo Europe/Paris > "$1"', "sh",
                             c.path(mb, ".calfs", "timezone")],
        "set an xattr": ["setfattr", "-n", "user.x", "-v", "1", cal / "a.ics"],
    }
    if own is not None:
        w["rename into it"] = ["mv", own / "a.ics", cal / ("moved-" + mine)]
    return w


def test_owner_reads_and_writes_own_mailbox(org):
    for who, mb in MAILBOX.items():
        st = os.stat(org.path(mb, "Calendar", "a.ics"))
        assert (st.st_uid, st.st_mode & 0o777) == (
            int(subprocess.check_output(["id", "-u", account(who)])), 0o660)
        for what, cmd in reads(org, mb).items():
            if "xattr" in what:
                continue        # a clean item has no user.calfs.fixes
            rc, err = as_user(who, *cmd)
            assert rc == 0, "%s could not %s: %s" % (who, what, err)
        rc, err = as_user(who, "cp", org.dir / "new.ics",
                          org.path(mb, "Calendar", "mine.ics"))
        assert rc == 0, err
        rc, err = as_user(who, "sed", "-i", "s/Bravo/Edited/",
                          org.path(mb, "Calendar", "b.ics"))
        assert rc == 0, err
        rc, err = as_user(who, "mv", org.path(mb, "Calendar", "mine.ics"),
                          org.path(mb, "Calendar", "moved.ics"))
        assert rc == 0, err
        rc, err = as_user(who, "rm", org.path(mb, "Calendar", "moved.ics"))
        assert rc == 0, err
        assert b"Edited" in org.path(mb, "Calendar", "b.ics").read_bytes()


def test_others_cannot_enter(org):
    before = store_items(org)
    for who, other in (("alice", "bob"), ("bob", "alice")):
        mb = MAILBOX[other]
        for what, cmd in reads(org, mb).items():
            rc, err = as_user(who, *cmd)
            assert rc != 0 and "Permission denied" in err, \
                "%s could %s of %s: rc %d %s" % (who, what, mb, rc, err)
        own = org.path(MAILBOX[who], "Calendar")
        for what, cmd in writes(org, mb, who, own).items():
            rc, err = as_user(who, *cmd)
            assert rc != 0 and "Permission denied" in err, \
                "%s could %s in %s: rc %d %s" % (who, what, mb, rc, err)
        # the mount-wide files speak of every mailbox
        for f in ("events", "errors", "status"):
            rc, err = as_user(who, "cat", org.path(".calfs", f))
            assert rc != 0 and "Permission denied" in err, (who, f, err)
    assert store_items(org) == before
    # nothing moved out of the users' own mailboxes either
    for mb in MAILBOX.values():
        assert sorted(os.listdir(org.path(mb, "Calendar"))) == ["a.ics", "b.ics"]


@pytest.mark.parametrize("who", ["root", "adm"])
def test_root_and_admin_can(org, who):
    for mb in MAILBOX.values():
        for what, cmd in reads(org, mb).items():
            if "xattr" in what:
                continue
            rc, err = as_user(who, *cmd)
            assert rc == 0, "%s could not %s of %s: %s" % (who, what, mb, err)
        for what, cmd in writes(org, mb, who, None).items():
            if what == "set an xattr":
                continue        # calfs keeps no user xattrs, for anyone
            rc, err = as_user(who, *cmd)
            assert rc == 0, "%s could not %s in %s: %s" % (who, what, mb, err)
        assert not os.path.exists(org.path(mb, "Calendar", "b.ics"))
        assert org.path(mb, "Calendar", "a.ics").read_bytes() == ics("new", "New")
        assert org.path(mb, ".calfs", "timezone").read_text().strip() == "Europe/Paris"
    for f in ("events", "status"):
        rc, err = as_user(who, "cat", org.path(".calfs", f))
        assert rc == 0, err


def test_mailbox_chmod_and_chown(org):
    """The owner may open the mailbox to others with chmod; only root can
    give it away with chown."""
    mb = org.path(MAILBOX["alice"])
    rc, err = as_user("bob", "ls", mb / "Calendar")
    assert rc != 0
    rc, err = as_user("alice", "chmod", "0755", mb)
    assert rc == 0, err
    assert as_user("bob", "cat", mb / "Calendar" / "a.ics")[0] == 0
    assert as_user("bob", "rm", mb / "Calendar" / "a.ics")[0] != 0
    rc, err = as_user("alice", "chown", account("bob"), mb)
    assert rc != 0 and "not permitted" in err
    rc, err = as_user("root", "chown", account("bob"), mb)
    assert rc == 0, err
    assert as_user("bob", "rm", mb / "Calendar" / "a.ics")[0] == 0
