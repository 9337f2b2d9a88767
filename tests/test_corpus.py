"""The real-export corpus: every file of ../shared/fixtures/exports and
../shared/fixtures/real (files other projects keep from Exchange, Outlook,
OWA, Google, Apple, Zimbra, Lotus Notes, GroupWise...) and the damaged
exports of tests/corpus (written here the way Exchange, OWA and Outlook
wrote them) imported into a mailbox each.  Every VEVENT and VTODO of a
file is served; what the mount serves is read alike by khal and
python-icalendar, vobject, ical.js and libical (the conformance harness,
against zoneinfo); importing the files again changes nothing.  A file
that must be refused is listed below with its reason, which is what
`calfs import` says."""
import codecs
import os
import re
import sys

import pytest

from calfs_util import ROOT, SHARED, Calfs

sys.path.insert(0, str(ROOT / "tests" / "conformance"))
import harness  # noqa: E402

EXPORTS = SHARED / "fixtures" / "exports"
REAL = SHARED / "fixtures" / "real"
OWN = ROOT / "tests" / "corpus"
ZONES = ROOT / "tests" / "conformance" / "real-zones.tsv"

# what calfs refuses, and why: none of them holds an event to keep
REFUSED = {
    "ical4j-boeing.ics": "skipped: only free/busy time (VFREEBUSY): no event, to-do or journal",
    "nodeical-vfreebusy-zimbra.ics":
        "skipped: only free/busy time (VFREEBUSY): no event, to-do or journal",
    "icalendar-issue_27_multiple_periods_in_freebusy_multiple_freebusies.ics":
        "skipped: a REPLY without a VEVENT (free/busy time?): nothing to apply",
    # an attendee's answer to a meeting this mailbox does not have
    "icalevents-response.ics": "skipped: no item with this UID in the mailbox",
    # a bare VTIMEZONE, no calendar
    "vobject-tz_us_eastern.ics": "skipped: does not begin with BEGIN:VCALENDAR",
}

# text that is not UTF-8 as it comes: what import says it did
CONVERTED = {
    "icalevents-basic_latin1.ics": "Windows-1252",
    "outlook2003-cp1252.ics": "Windows-1252",
    "outlook2016-bom.ics": "byte-order mark",
}

# damage mended on read, by file: the rule user.calfs.fixes names
MENDED = {
    "horde-exchange-example.ics": "rule L1",
    "kronolith-bug11688.ics": "rule L1",
    "exchange2003-cdo.ics": "rule L1",
    "exchange2007-folds.ics": "rule L1",
    "ical4j-sogo-geo-escaped-semicolon.ics": "rule L5",
    "outlook2003-cp1252.ics": "rule L11",
}

# END lines a file left out, added as it is imported (rule L10)
CLOSED = ["exchange2003-cdo.ics", "o365-2023-missing-ends.ics"]

# files whose events have no UID: each gets one calfs makes
NO_UID = ["icalevents-no_uid.ics", "owa2010-no-uid.ics"]

COMPONENT = re.compile(r"^BEGIN:(VEVENT|VTODO)\s*$", re.M | re.I)


def corpus():
    files = sorted(OWN.glob("*.ics"))
    for d in (EXPORTS, REAL):
        if d.is_dir():
            files += sorted(d.glob("*.ics"))
    return files


def text_of(data):
    """The file as text, however it came."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def count(text):
    return len(COMPONENT.findall(text))


def mailbox(f):
    return "x-%s@corpus.test" % f.stem


def served(c, f):
    """{name: bytes} of what the mount serves for f's mailbox, and of its
    raw view."""
    out = {}
    for view in ("", ".raw"):
        top = c.mnt / view / mailbox(f) if view else c.path(mailbox(f))
        for root, _, names in os.walk(top):
            for n in names:
                if n.endswith(".ics"):
                    p = os.path.join(root, n)
                    out[os.path.join(view, os.path.relpath(p, c.mnt / view))] = \
                        open(p, "rb").read()
    return out


def import_all(c, files):
    said = {}
    for f in files:
        r = c.run("import", "--verbose", mailbox(f), f, check=False)
        said[f.name] = (r.returncode, r.stdout + r.stderr)
    return said


@pytest.mark.skipif(not EXPORTS.is_dir() or not REAL.is_dir(),
                    reason="../shared/fixtures is absent")
def test_real_export_corpus(tmp_path):
    files = corpus()
    names = {f.name for f in files}
    assert len([f for f in files if f.parent != OWN]) >= 54
    assert set(REFUSED) <= names and set(CONVERTED) <= names
    c = Calfs(tmp_path)
    try:
        said = import_all(c, files)
        for f in files:
            rc, out = said[f.name]
            if f.name in REFUSED:
                assert rc == 1, "%s: exit %d: %s" % (f.name, rc, out)
                assert REFUSED[f.name] in out, "%s: %s" % (f.name, out)
            else:
                assert rc == 0, "%s: exit %d: %s" % (f.name, rc, out)
                assert "skipped: " not in out, out
            if f.name in CONVERTED:
                assert CONVERTED[f.name] in out, out
            if f.name in CLOSED:
                assert "(rule L10)" in out, out
            if f.name in NO_UID:
                assert "made by calfs" in out, out
        c.mount()

        # every VEVENT and VTODO of every file is served
        served_items = {}
        missing = []
        components = 0
        for f in files:
            items = {k: v for k, v in served(c, f).items() if not k.startswith(".raw")}
            served_items[f.name] = items
            want = 0 if f.name in REFUSED else count(text_of(f.read_bytes()))
            got = sum(count(v.decode("utf-8")) for v in items.values())
            components += got
            if got != want:
                missing.append("%s: %d of %d served" % (f.name, got, want))
        assert not missing, "\n".join(missing)
        total = sum(len(v) for v in served_items.values())
        assert components > 650 and total > 500, (components, total)

        # and read by every reader as tzdata says
        n, problems = harness.check([c.path(mailbox(f)) for f in files
                                     if served_items[f.name]],
                                    harness.read_map(ZONES))
        assert not problems, "\n".join(problems)
        assert n >= total

        # each mend named where the admin looks
        for name, rule in MENDED.items():
            f = next(f for f in files if f.name == name)
            fixes = "\n".join(os.getxattr(c.path(p), "user.calfs.fixes").decode()
                              for p in served_items[name])
            assert rule in fixes, "%s: %s" % (name, fixes)
        for name in NO_UID:
            for p in served_items[name]:
                fixes = os.getxattr(c.path(p), "user.calfs.fixes").decode()
                assert "UID: made by calfs" in fixes, fixes

        # a re-import changes nothing
        before = {f.name: served(c, f) for f in files}
        again = import_all(c, files)
        for f in files:
            rc, out = again[f.name]
            assert rc == said[f.name][0], out
            assert not re.search(r"\b[1-9]\d* (created|updated)", out), out
        assert {f.name: served(c, f) for f in files} == before
        c.umount()
    finally:
        c.cleanup()
    assert not c.warnings()


def test_line_damage_diff(tmp_path):
    """diff -r .raw/M M shows only the mended lines: Exchange 2003's bare
    line break and two-space folds, Exchange 2007's lost fold spaces."""
    c = Calfs(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Microsoft CDO for Microsoft Exchange\r\n"
        b"BEGIN:VEVENT\r\nDTSTAMP:20011115T211047Z\r\nDTSTART:20011116T190000Z\r\n"
        b"SUMMARY:review\r\n"
        b"UID:040000008200E00074C5B7101A82E00800000000B0549C15F06DC101000000000000000\r\n"
        b"  0100000008BF784046BEC174CA6706A51BE3E8B33\r\n"
        b"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"MHMN002\"\r\n"
        b":\r\n  MAILTO:MHMN002@example.com\r\n"
        b"DESCRIPTION:Let's get together to finalize. Way to go team in the final hom\r\n"
        b"estretch!\\N\r\n"
        b"LOCATION:metcalfe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    c.run("import", "alice@example.com", src)
    c.mount()
    try:
        cal = c.path("alice@example.com", "Calendar")
        raw = c.mnt / ".raw" / "alice@example.com" / "Calendar"
        (name,) = os.listdir(cal)
        old = (raw / name).read_bytes().decode().split("\r\n")
        new = (cal / name).read_bytes().decode().split("\r\n")
        gone = [l for l in old if l not in new]
        added = [l for l in new if l not in old]
        assert gone == ["  0100000008BF784046BEC174CA6706A51BE3E8B33",
                        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"MHMN002\"",
                        ":", "  MAILTO:MHMN002@example.com",
                        "estretch!\\N"], gone
        unfolded = "\r\n".join(new).replace("\r\n ", "")
        assert "UID:040000008200E00074C5B7101A82E00800000000B0549C15F06DC10100000000000000001" \
               "00000008BF784046BEC174CA6706A51BE3E8B33\r\n" in unfolded
        assert "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"MHMN002\"" \
               ":MAILTO:MHMN002@example.com\r\n" in unfolded
        assert "in the final homestretch!\\N\r\n" in unfolded
        assert added and all(not l.startswith(("SUMMARY", "LOCATION", "DTSTART")) for l in added)
        fixes = os.getxattr(cal / name, "user.calfs.fixes").decode()
        assert fixes.count("(rule L1)") == 4, fixes
        c.umount()
    finally:
        c.cleanup()
    assert not c.warnings()
