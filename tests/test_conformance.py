"""Every item calfs serves, read by the programs people use (khal and
python-icalendar 4, vobject, ical.js, libical), means the instants tzdata
gives its local times (tests/conformance/harness.py, against zoneinfo):
rule-change data written as Outlook and Exchange wrote it, a generated
organisation, the demo, and the real files of ../shared/fixtures/real."""
import os
import re
import subprocess
import sys

import pytest

from calfs_util import CALFS, GEN, ROOT, SHARED, Calfs

sys.path.insert(0, str(ROOT / "tests" / "conformance"))
import harness  # noqa: E402
import rulechange  # noqa: E402

REAL = SHARED / "fixtures" / "real"
REAL_ZONES = ROOT / "tests" / "conformance" / "real-zones.tsv"


def mailbox_zones(truth):
    """mount.conf groups giving each mailbox its zone, as an admin does."""
    return "".join("[mailbox %s]\ntimezone=%s\n" % tuple(l.split("\t"))
                   for l in (truth / "mailboxes.tsv").read_text().splitlines())


def served(tmp_path, src, truth):
    """A background mount of the organisation src (import --tree)."""
    c = Calfs(tmp_path / "store", mailbox_zones(truth))
    c.run("import", "--tree", src)
    c.mount()
    return c


def check(paths, truth=None, zones=None):
    zones = harness.read_map(zones or truth / "zones.tsv")
    expect = harness.read_map(truth / "expect.tsv", harness.parse_utc) if truth else {}
    return harness.check([str(p) for p in paths], zones, expect)


def calendars(c):
    return [c.mnt / m for m in sorted(os.listdir(c.mnt)) if not m.startswith(".")]


def test_rule_changes(tmp_path):
    """US 2007, New Zealand 2007, Australia 2008, Russia 2011 and 2014,
    Brazil 2019, Mexico 2022, zones without DST: what the mount serves is
    what tzdata says in every reader; what was stored is not."""
    rulechange.main(str(tmp_path / "data"))
    truth = tmp_path / "data" / "truth"
    (tmp_path / "store").mkdir()
    c = served(tmp_path, tmp_path / "data" / "src", truth)
    try:
        n, problems = check(calendars(c), truth)
        assert n >= 40
        assert not problems, "\n".join(problems)
        # the raw view shows the damage the readers would have met
        n_raw, problems = check([c.mnt / ".raw"], truth)
        assert n_raw == n
        for mb in ("us2007", "nz2007", "au2008", "ru2011", "ru2014", "br2019", "mx2022"):
            assert any("/%s@rulechange.test/Calendar/%s-old-series.ics" % (mb, mb) in p
                       for p in problems), mb
            assert any("%s-old-single-differ" % mb in p for p in problems), mb
        # what needed no change is served as stored
        assert not [p for p in problems if re.search(r"new-s|birthday|-agree|tokyo|phoenix", p)]
        c.umount()
    finally:
        c.cleanup()
    assert not c.warnings()


def test_generated_organisation(tmp_path):
    src, truth = tmp_path / "org", tmp_path / "truth"
    subprocess.run([str(GEN), "--mailboxes", "8", "--items", "30", "--export-items", "30",
                    "--seed", "7", "--truth", str(truth), str(src)], check=True,
                   capture_output=True)
    (tmp_path / "store").mkdir()
    c = served(tmp_path, src, truth)
    try:
        n, problems = check(calendars(c), truth)
        assert n > 400
        assert not problems, "\n".join(problems[:20])
        c.umount()
    finally:
        c.cleanup()
    assert not c.warnings()


def test_demo(tmp_path):
    """What make run mounts."""
    demo, mnt = tmp_path / "demo", tmp_path / "mnt"
    subprocess.run([str(ROOT / "scripts" / "demo"), str(CALFS), str(demo), str(mnt)],
                   check=True, capture_output=True, timeout=120)
    try:
        n, problems = check([mnt / m for m in os.listdir(mnt) if not m.startswith(".")],
                            demo / "truth")
        assert n > 100
        assert not problems, "\n".join(problems[:20])
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], check=True)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
def test_real_fixtures(tmp_path):
    c = Calfs(tmp_path)
    try:
        c.run("import", "alice@example.com", *sorted(REAL.glob("*.ics")), check=False)
        c.mount()
        n, problems = check([c.path("alice@example.com")], zones=REAL_ZONES)
        assert n >= 10
        assert not problems, "\n".join(problems)
        c.umount()
    finally:
        c.cleanup()
