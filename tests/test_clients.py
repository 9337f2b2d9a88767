"""Real vdir clients against the mount: khal, vdirsyncer, and vdirsyncer
between the mount and a Radicale server."""
import os
import re
import shutil
import subprocess

import pytest

from calfs_util import ROOT, ics, wait_for

MB = "alice@example.com"

KHAL_CONF = """[calendars]
[[alice]]
path = {path}
type = calendar
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = UTC
local_timezone = UTC
"""

VDIRSYNCER_CONF = """[general]
status_path = "{tmp}/status/"

[pair cal]
a = "mounted"
b = "local"
collections = null
conflict_resolution = "a wins"

[storage mounted]
type = "filesystem"
path = "{mounted}"
fileext = ".ics"

[storage local]
type = "filesystem"
path = "{local}"
fileext = ".ics"
"""


def client_env(tmp):
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"),
                XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
                LC_ALL="C.UTF-8", TZ="UTC")


def run(cmd, env, input=None):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       env=env, input=input, timeout=120)
    assert r.returncode == 0, "%s: %s%s" % (cmd, r.stdout, r.stderr)
    return r


@pytest.mark.skipif(not shutil.which("khal"), reason="khal is not installed")
def test_khal_lists_and_creates(mounted, tmp_path):
    calendar = mounted.path(MB, "Calendar")
    conf = tmp_path / "khal.conf"
    conf.write_text(KHAL_CONF.format(path=calendar))
    env = client_env(tmp_path)
    out = run(["khal", "-c", conf, "list", "2019-12-31", "3d"], env).stdout
    assert "Alpha" in out and "Bravo" in out
    run(["khal", "-c", conf, "new", "-a", "alice", "2020-01-02", "09:00", "10:00",
         "Made by khal"], env)
    made = [n for n in os.listdir(calendar)
            if b"Made by khal" in (calendar / n).read_bytes()]
    assert len(made) == 1 and made[0].endswith(".ics")
    out = run(["khal", "-c", conf, "list", "2019-12-31", "3d"], env).stdout
    assert "Made by khal" in out


def items(d):
    return {n: (d / n).read_bytes() for n in os.listdir(d) if n.endswith(".ics")}


@pytest.mark.skipif(not shutil.which("vdirsyncer"), reason="vdirsyncer is not installed")
def test_vdirsyncer_both_ways(mounted, tmp_path):
    calendar = mounted.path(MB, "Calendar")
    local = tmp_path / "local"
    local.mkdir()
    conf = tmp_path / "vdirsyncer.conf"
    conf.write_text(VDIRSYNCER_CONF.format(tmp=tmp_path, mounted=str(calendar) + "/",
                                           local=str(local) + "/"))
    env = client_env(tmp_path)
    run(["vdirsyncer", "-c", conf, "discover"], env, input="y\n")

    r = run(["vdirsyncer", "-c", conf, "sync"], env)
    assert items(local) == items(calendar)

    # local changes: new, changed, deleted -> the mount
    (local / "new-local.ics").write_bytes(ics("new-local", "From local"))
    (local / "a.ics").write_bytes(ics("a", "Alpha changed locally"))
    os.unlink(local / "b.ics")
    r = run(["vdirsyncer", "-c", conf, "sync"], env)
    assert b"From local" in (calendar / "new-local.ics").read_bytes()
    assert b"Alpha changed locally" in (calendar / "a.ics").read_bytes()
    assert not (calendar / "b.ics").exists()

    # changes in the mount: new, changed, deleted -> local
    (calendar / "new-mount.ics").write_bytes(ics("new-mount", "From the mount"))
    subprocess.run(["sed", "-i", "s/changed locally/changed in the mount/",
                    str(calendar / "a.ics")], check=True)
    os.unlink(calendar / "new-local.ics")
    r = run(["vdirsyncer", "-c", conf, "sync"], env)
    assert items(local) == items(calendar)
    assert set(items(local)) == {"a.ics", "new-mount.ics"}
    assert b"changed in the mount" in (local / "a.ics").read_bytes()

    # twice more: the second has nothing to do
    run(["vdirsyncer", "-c", conf, "sync"], env)
    r = run(["vdirsyncer", "-c", conf, "sync"], env)
    quiet = r.stdout + r.stderr
    for word in ("Copying", "Updating", "Deleting"):
        assert word not in quiet, quiet
    assert items(local) == items(calendar)
    assert mounted.path(".calfs", "errors").read_text() == ""


# ---- rebased items in the clients people run ----

def rule_change_data(tmp_path):
    """tests/conformance/rulechange.py's items and truth."""
    import sys
    sys.path.insert(0, str(ROOT / "tests" / "conformance"))
    import rulechange
    rulechange.main(str(tmp_path / "data"))
    return tmp_path / "data" / "src", tmp_path / "data" / "truth"


def mailbox_zones(truth):
    return "".join("[mailbox %s]\ntimezone=%s\n" % tuple(l.split("\t"))
                   for l in (truth / "mailboxes.tsv").read_text().splitlines())


@pytest.mark.skipif(not shutil.which("khal"), reason="khal is not installed")
def test_khal_lists_every_rebased_item(calfs, tmp_path):
    """khal 0.10.5 (python-icalendar 4) skipped every item whose VTIMEZONE
    calfs had replaced: now it lists each, at the time tzdata says."""
    src, truth = rule_change_data(tmp_path)
    calfs.set_conf(mailbox_zones(truth))
    calfs.run("import", "--tree", src)
    calfs.mount()
    boxes = sorted(os.listdir(src))
    conf = tmp_path / "khal.conf"
    conf.write_text(KHAL_CONF.replace("[[alice]]\npath = {path}\ntype = calendar\n", "".join(
        "[[%s]]\npath = %s\ntype = calendar\n" % (mb.split("@")[0], calfs.path(mb, "Calendar"))
        for mb in boxes)))
    env = client_env(tmp_path)
    r = run(["khal", "-c", conf, "list", "--format", "{start} {title}", "2004-01-01",
             "2025-12-31"], env)
    assert "Skipping" not in r.stderr and "warning" not in r.stderr, r.stderr
    rebased = [(mb, n) for mb in boxes for n in os.listdir(calfs.path(mb, "Calendar"))
               if os.getxattr(calfs.path(mb, "Calendar", n), "user.calfs.fixes")]
    assert len(rebased) >= 14
    for mb, n in rebased:
        assert n[:-4] in r.stdout, n
    # at the instant tzdata gives it (khal prints UTC here)
    assert "2007-03-20 13:00 us2007-old-single-differ" in r.stdout
    assert "2008-03-25 20:00 nz2007-new-single" not in r.stdout      # 2008-03-25 09:00 NZDT
    assert "2008-03-24 20:00 nz2007-new-single" in r.stdout


RADICALE_SYNC = """[general]
status_path = "{tmp}/status/"

[pair cal]
a = "server"
b = "mounted"
collections = null
conflict_resolution = "b wins"

[storage server]
type = "caldav"
url = "{url}"
username = "alice"
password = "alice"

[storage mounted]
type = "filesystem"
path = "{mounted}"
fileext = ".ics"
"""


class Radicale:
    """A Radicale server on 127.0.0.1, throwaway storage, any password
    (its user alice owns /alice/)."""

    def __init__(self, tmp):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(tmp / "radicale.log", "wb")
        self.proc = subprocess.Popen(
            ["radicale", "--server-hosts", "127.0.0.1:%d" % self.port, "--auth-type", "none",
             "--rights-type", "owner_only", "--storage-filesystem-folder", str(tmp / "radicale")],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.up, 20, "Radicale")

    def up(self):
        import urllib.request
        try:
            urllib.request.urlopen(self.url + "/.web/", timeout=1)
            return True
        except OSError:
            return self.proc.poll() is not None

    def request(self, method, path, body=None):
        import base64
        import urllib.request
        auth = "Basic " + base64.b64encode(b"alice:alice").decode()
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": "text/calendar",
                                              "Authorization": auth})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.mark.skipif(not shutil.which("vdirsyncer") or not shutil.which("radicale"),
                    reason="vdirsyncer or radicale is not installed")
def test_radicale_gets_repairs_and_rebases(calfs, tmp_path):
    """Damaged items on a CalDAV server (Radicale), synced with the mount
    by vdirsyncer; calfs fix; sync again: the server serves them repaired
    and rebased (X-CALFS-REBASED: vdirsyncer hashes items without their
    VTIMEZONEs), and one more sync has nothing to do."""
    from test_repair import broken_times, organizer_item
    src, truth = rule_change_data(tmp_path)
    calfs.set_conf("[policy]\nrepair_on_write=false\n" + mailbox_zones(truth))
    server = Radicale(tmp_path)
    try:
        server.request("MKCALENDAR", "/alice/cal/")
        damaged = {"m1.ics": organizer_item()}
        for f in sorted((src / "us2007@rulechange.test").iterdir()):
            damaged[f.name] = f.read_bytes()
        for name, data in damaged.items():
            server.request("PUT", "/alice/cal/" + name, data)
        calfs.mount()
        os.mkdir(calfs.path("us2007@rulechange.test"))
        cal = calfs.path("us2007@rulechange.test", "Calendar")
        os.mkdir(cal)
        conf = tmp_path / "vdirsyncer.conf"
        conf.write_text(RADICALE_SYNC.format(tmp=tmp_path, url=server.url + "/alice/cal/",
                                             mounted=str(cal) + "/"))
        env = client_env(tmp_path)
        run(["vdirsyncer", "-c", conf, "discover"], env, input="y\n")
        run(["vdirsyncer", "-c", conf, "sync"], env)
        assert len(items(cal)) == len(damaged)
        r = calfs.run("fix")
        assert not re.search(r"\b0 items\b", r.stderr), r.stderr
        run(["vdirsyncer", "-c", conf, "sync"], env)
        served = {n: server.request("GET", "/alice/cal/" + n).decode() for n in damaged}
        assert not broken_times(served["m1.ics"])
        old = served["old-series.ics"]
        # (Radicale writes the ';' of an X- property's value escaped)
        assert re.search(r"X-CALFS-REBASED:America/New_York\\?;tzdata-", old), old
        assert "BYMONTH=11" in old          # tzdata's rule in the VTIMEZONE
        assert "UNTIL" not in old
        # one more sync: nothing to do
        r = run(["vdirsyncer", "-c", conf, "sync"], env)
        for word in ("Copying", "Updating", "Deleting"):
            assert word not in r.stdout + r.stderr, r.stdout + r.stderr
    finally:
        server.stop()


# ---- calendar metadata (vdir displayname and color) ----

METASYNC = """[general]
status_path = "{tmp}/status/"

[pair cal]
a = "mounted"
b = "other"
collections = null
metadata = ["color", "displayname"]
conflict_resolution = "a wins"

[storage mounted]
type = "filesystem"
path = "{mounted}"
fileext = ".ics"

{other}
"""

LOCAL_STORAGE = """[storage other]
type = "filesystem"
path = "{path}"
fileext = ".ics"
"""

CALDAV_STORAGE = """[storage other]
type = "caldav"
url = "{url}"
username = "alice"
password = "alice"
"""


def metasync(conf, env):
    """vdirsyncer metasync; what it copied (its "Copying" lines)."""
    r = run(["vdirsyncer", "-c", conf, "metasync"], env)
    return [l for l in (r.stdout + r.stderr).splitlines() if "Copying" in l]


@pytest.mark.skipif(not shutil.which("vdirsyncer"), reason="vdirsyncer is not installed")
def test_vdirsyncer_metasync_local(mounted, tmp_path):
    """vdirsyncer writes displayname and color as a scratch file renamed
    over them (atomicwrites): both ways, and a second run settles."""
    calendar = mounted.path(MB, "Calendar")
    local = tmp_path / "local"
    local.mkdir()
    conf = tmp_path / "vdirsyncer.conf"
    conf.write_text(METASYNC.format(tmp=tmp_path, mounted=str(calendar) + "/",
                                    other=LOCAL_STORAGE.format(path=local)))
    env = client_env(tmp_path)
    run(["vdirsyncer", "-c", conf, "discover"], env, input="y\n")

    (local / "color").write_text("#ff8800")
    (local / "displayname").write_text("Team calendar")
    assert len(metasync(conf, env)) == 2
    assert (calendar / "color").read_text() == "#ff8800"
    assert (calendar / "displayname").read_text() == "Team calendar"
    assert not [n for n in os.listdir(calendar) if n.startswith((".tmp", "tmp"))]

    # changed in the mount: to the local vdir
    (calendar / "displayname").write_text("Renamed in the mount")
    copied = metasync(conf, env)
    assert len(copied) == 1 and "displayname" in copied[0], copied
    assert (local / "displayname").read_text() == "Renamed in the mount"
    # changed locally again: back through a rename over the mount's file
    (local / "color").write_text("#0000ff")
    metasync(conf, env)
    assert (calendar / "color").read_text() == "#0000ff"
    assert metasync(conf, env) == []
    assert mounted.path(".calfs", "errors").read_text() == ""


@pytest.mark.skipif(not shutil.which("vdirsyncer") or not shutil.which("radicale"),
                    reason="vdirsyncer or radicale is not installed")
def test_vdirsyncer_metasync_radicale(mounted, tmp_path):
    """The mount's displayname and color to a CalDAV collection and back."""
    import xml.etree.ElementTree as ET
    server = Radicale(tmp_path)
    try:
        server.request("MKCALENDAR", "/alice/cal/")
        calendar = mounted.path(MB, "Calendar")
        conf = tmp_path / "vdirsyncer.conf"
        conf.write_text(METASYNC.format(
            tmp=tmp_path, mounted=str(calendar) + "/",
            other=CALDAV_STORAGE.format(url=server.url + "/alice/cal/")))
        env = client_env(tmp_path)
        run(["vdirsyncer", "-c", conf, "discover"], env, input="y\n")

        (calendar / "displayname").write_text("Alice at work")
        (calendar / "color").write_text("#112233")
        assert len(metasync(conf, env)) == 2

        def prop(name, ns):
            body = ('<?xml version="1.0"?><propfind xmlns="DAV:"><prop><x:%s xmlns:x="%s"/>'
                    '</prop></propfind>' % (name, ns)).encode()
            tree = ET.fromstring(server.request("PROPFIND", "/alice/cal/", body))
            found = tree.find(".//{%s}%s" % (ns, name))
            return found.text if found is not None else None
        assert prop("displayname", "DAV:") == "Alice at work"
        assert prop("calendar-color", "http://apple.com/ns/ical/").startswith("#112233")

        # changed on the server: to the mount, by a rename over its file
        body = ('<?xml version="1.0"?><propertyupdate xmlns="DAV:"><set><prop>'
                '<displayname>Alice, renamed on the server</displayname></prop></set>'
                '</propertyupdate>').encode()
        server.request("PROPPATCH", "/alice/cal/", body)
        assert len(metasync(conf, env)) == 1
        assert (calendar / "displayname").read_text() == "Alice, renamed on the server"
        assert metasync(conf, env) == []
        assert mounted.path(".calfs", "errors").read_text() == ""
    finally:
        server.stop()
