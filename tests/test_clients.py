"""Real vdir clients against the mount: khal and vdirsyncer."""
import os
import shutil
import subprocess

import pytest

from calfs_util import ics

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
