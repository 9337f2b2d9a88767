"""DST rebasing through the mount, read by a second, independent reader:
vobject expands the occurrences from the VTIMEZONE calfs serves, zoneinfo
says what they should be."""
import email
import email.policy
import errno
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import vobject

from calfs_util import SHARED, wait_for

MB = "alice@example.com"
CRLF = "\r\n"
EASTERN = "(GMT-05.00) Eastern Time (US & Canada)"

OLD_US = {  # the rule before 2007: first Sunday of April to last Sunday of October
    "Eastern": (-5, "BYDAY=1SU;BYMONTH=4", "BYDAY=-1SU;BYMONTH=10"),
    "Central": (-6, "BYDAY=1SU;BYMONTH=4", "BYDAY=-1SU;BYMONTH=10"),
}


def vtimezone(tzid, std, dst_rule, std_rule, cdo=None):
    lines = ["BEGIN:VTIMEZONE", "TZID:" + tzid.replace(",", "\\,")]
    if cdo is not None:
        lines.append("X-MICROSOFT-CDO-TZID:%d" % cdo)
    lines += ["BEGIN:STANDARD", "DTSTART:16010101T020000",
              "TZOFFSETFROM:%+03d00" % (std + 1), "TZOFFSETTO:%+03d00" % std,
              "RRULE:FREQ=YEARLY;" + std_rule, "END:STANDARD",
              "BEGIN:DAYLIGHT", "DTSTART:16010101T020000",
              "TZOFFSETFROM:%+03d00" % std, "TZOFFSETTO:%+03d00" % (std + 1),
              "RRULE:FREQ=YEARLY;" + dst_rule, "END:DAYLIGHT", "END:VTIMEZONE"]
    return lines


def calendar(*blocks):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 11.0//EN"]
    for b in blocks:
        lines += b
    lines.append("END:VCALENDAR")
    return (CRLF.join(lines) + CRLF).encode()


def event(uid, start, tzid=None, rrule=None, created="20051201T000000Z", extra=()):
    lines = ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + created, "CREATED:" + created,
             "SUMMARY:" + uid]
    if tzid:
        lines += ['DTSTART;TZID="%s":%s' % (tzid, start),
                  'DTEND;TZID="%s":%s' % (tzid, start[:-4] + "3000")]
    else:
        lines += ["DTSTART:" + start]
    if rrule:
        lines.append("RRULE:" + rrule)
    lines += list(extra) + ["END:VEVENT"]
    return lines


def eastern_series(uid="series", rrule="FREQ=WEEKLY;COUNT=365", start="20060102T100000"):
    std, dst, std_rule = OLD_US["Eastern"]
    return calendar(vtimezone(EASTERN, std, dst, std_rule, cdo=10),
                    event(uid, start, EASTERN, rrule))


def read(text):
    """vobject's reading of text, with its own VTIMEZONEs: vobject keeps the
    first VTIMEZONE it saw for a TZID for the whole process otherwise."""
    tzids = getattr(vobject.icalendar, "__tzidMap")
    tzids.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    return vobject.readOne(text)


def occurrences(text, limit=400):
    """(local naive, UTC) for each occurrence, as vobject reads text."""
    cal = read(text)
    out = []
    for ev in cal.vevent_list:
        rs = ev.getrruleset(addRDate=True)
        times = list(rs)[:limit] if rs else [ev.dtstart.value]
        for t in times:
            out.append((t.replace(tzinfo=None), t.astimezone(timezone.utc)))
    return out


def check_against_tzdata(text, zone):
    z = ZoneInfo(zone)
    occ = occurrences(text)
    assert occ
    for local, utc in occ:
        want = local.replace(tzinfo=z).astimezone(timezone.utc)
        assert utc == want, "%s: %s served, %s in tzdata %s" % (local, utc, want, zone)
    return len(occ)


def test_recurring_eastern_rebased(calfs):
    calfs.import_items(MB, {"series.ics": eastern_series()})
    calfs.mount()
    view = calfs.path(MB, "Calendar", "series.ics")
    text = view.read_text()
    assert check_against_tzdata(text, "America/New_York") == 365
    # the raw view keeps the old rule, which tzdata disagrees with
    raw = calfs.path(".raw", MB, "Calendar", "series.ics").read_text()
    with pytest.raises(AssertionError):
        check_against_tzdata(raw, "America/New_York")
    fixes = os.getxattr(view, "user.calfs.fixes").decode()
    assert fixes.startswith('VTIMEZONE "%s" \u2192 tzdata America/New_York (2007 rule; ' % EASTERN)
    assert "occurrences moved back 1h" in fixes
    # local times and everything outside the VTIMEZONE stay as they were
    assert 'DTSTART;TZID="%s":20060102T100000' % EASTERN in text
    # and the event says its VTIMEZONE changed (for vdirsyncer)
    assert "X-CALFS-REBASED:America/New_York;tzdata-" in text
    calfs.umount()


def test_written_back_and_rendered_again(calfs, tmp_path):
    calfs.import_items(MB, {"series.ics": eastern_series()})
    calfs.mount()
    view = calfs.path(MB, "Calendar", "series.ics")
    first = view.read_bytes()
    # the rendered view, written back through the mount, reads the same
    shutil.copyfile(view, tmp_path / "copy.ics")
    shutil.copyfile(tmp_path / "copy.ics", view)
    assert view.read_bytes() == first
    assert calfs.path(".raw", MB, "Calendar", "series.ics").read_bytes() == first
    assert os.getxattr(view, "user.calfs.fixes") == b""
    # and rendering the rendered output changes nothing
    calfs.import_items("bob@example.com", {"series.ics": first})
    assert calfs.path("bob@example.com", "Calendar", "series.ics").read_bytes() == first
    calfs.umount()


def test_single_events(calfs):
    calfs.set_conf("[mailbox %s]\ntimezone=America/New_York\n" % MB)
    std, dst, std_rule = OLD_US["Eastern"]
    local = calendar(vtimezone(EASTERN, std, dst, std_rule), event("local", "20070320T100000", EASTERN))
    summer = calendar(vtimezone(EASTERN, std, dst, std_rule), event("summer", "20070620T100000", EASTERN))
    # stored in UTC by a client that knew only the old rule: 10:00 EST
    utc = calendar(event("utc", "20070320T150000Z", created="20061001T120000Z",
                         extra=["DTEND:20070320T160000Z", "BEGIN:VALARM", "ACTION:DISPLAY",
                                "TRIGGER;VALUE=DATE-TIME:20070320T144500Z", "END:VALARM"]))
    allday = calendar(["BEGIN:VEVENT", "UID:allday", "DTSTAMP:20061001T120000Z",
                       "DTSTART;VALUE=DATE:20070320", "DTEND;VALUE=DATE:20070321", "END:VEVENT"])
    items = {"local.ics": local, "summer.ics": summer, "utc.ics": utc, "allday.ics": allday}
    calfs.import_items(MB, items)
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    check_against_tzdata((cal / "local.ics").read_text(), "America/New_York")
    assert (cal / "summer.ics").read_bytes() == summer
    assert (cal / "allday.ics").read_bytes() == allday
    text = (cal / "utc.ics").read_text()
    ev = read(text).vevent
    assert ev.dtstart.value == datetime(2007, 3, 20, 10, tzinfo=ZoneInfo("America/New_York"))
    assert ev.dtend.value == datetime(2007, 3, 20, 11, tzinfo=ZoneInfo("America/New_York"))
    assert "TRIGGER;VALUE=DATE-TIME:20070320T134500Z" in text
    assert "X-CALFS-REBASED:America/New_York;2007" in text
    assert "moved back 1h" in os.getxattr(cal / "utc.ics", "user.calfs.fixes").decode()
    calfs.umount()


def test_recurring_only_leaves_single_items(calfs):
    """recurring_only: the series is rebased; single items, whether they
    carry the old rule in a VTIMEZONE or were stored in UTC with it, are
    served as stored, and calfs fix stores nothing for them."""
    calfs.set_conf("[policy]\nrecurring_only=true\n[mailbox %s]\ntimezone=America/New_York\n"
                   % MB)
    std, dst, std_rule = OLD_US["Eastern"]
    local = calendar(vtimezone(EASTERN, std, dst, std_rule), event("local", "20070320T100000", EASTERN))
    utc = calendar(event("utc", "20070320T150000Z", created="20061001T120000Z",
                         extra=["DTEND:20070320T160000Z"]))
    items = {"series.ics": eastern_series(), "local.ics": local, "utc.ics": utc}
    calfs.import_items(MB, items)
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    assert check_against_tzdata((cal / "series.ics").read_text(), "America/New_York") == 365
    assert "X-CALFS-REBASED:" in (cal / "series.ics").read_text()
    for name in ("local.ics", "utc.ics"):
        assert (cal / name).read_bytes() == items[name], name
        assert os.getxattr(cal / name, "user.calfs.fixes") == b"", name
    # the control: the same single items move once the option is off
    with pytest.raises(AssertionError):
        check_against_tzdata(items["local.ics"].decode(), "America/New_York")
    calfs.umount()
    r = calfs.run("fix")
    assert re.search(r" 1 changed", r.stderr), r.stderr
    raw = {name: calfs.path(".raw", MB, "Calendar", name) for name in items}
    calfs.set_conf("[mailbox %s]\ntimezone=America/New_York\n" % MB)
    calfs.mount()
    for name in ("local.ics", "utc.ics"):
        assert raw[name].read_bytes() == items[name], name
        assert (cal / name).read_bytes() != items[name], name
    check_against_tzdata((cal / "local.ics").read_text(), "America/New_York")
    assert "X-CALFS-REBASED:America/New_York;2007" in (cal / "utc.ics").read_text()
    calfs.umount()


def test_mailbox_timezone_file(calfs):
    calfs.import_items(MB, {"utc.ics": calendar(event("utc", "20070320T150000Z",
                                                       created="20061001T120000Z"))})
    calfs.mount()
    tzfile = calfs.path(MB, ".calfs", "timezone")
    item = calfs.path(MB, "Calendar", "utc.ics")
    assert tzfile.read_text() == ""
    assert "DTSTART:20070320T150000Z" in item.read_text()       # no zone: no move
    tzfile.write_text("America/New_York\n")
    assert tzfile.read_text() == "America/New_York\n"
    assert "DTSTART:20070320T140000Z" in item.read_text()
    with pytest.raises(OSError) as e:
        tzfile.write_text("Nowhere/Special\n")
    assert e.value.errno == errno.EINVAL
    assert tzfile.read_text() == "America/New_York\n"
    assert "'Nowhere/Special' is not a tzdata zone" in calfs.path(".calfs", "errors").read_text()
    calfs.umount()
    # stored, and journaled
    db = calfs.db()
    assert db.one("select timezone from mailboxes where name = ?", (MB,)) == \
        ("America/New_York",)
    assert db.one("select count(*) from journal where op = 'timezone'")[0] == 1


def test_extraction_reports(calfs):
    calfs.set_conf("[mailbox carol@example.com]\n"
                          "timezone=Europe/Paris\n")
    calfs.import_items(MB, {"series.ics": eastern_series(),
                            "two.ics": eastern_series("two", "FREQ=MONTHLY;COUNT=24")})
    std, dst, std_rule = OLD_US["Central"]
    # rules that fit old US Central and Mexico City, a name that says nothing
    custom = calendar(vtimezone("Custom Central", std, dst, std_rule),
                      event("custom", "20070105T100000", "Custom Central", "FREQ=WEEKLY;COUNT=150"))
    calfs.import_items("bob@example.com", {"custom.ics": custom})
    calfs.import_items("dave@example.com", {"utc.ics": calendar(event("utc", "20070320T150000Z"))})
    calfs.import_items("carol@example.com", {"utc.ics": calendar(event("utc", "20070320T150000Z"))})
    r = calfs.run("tz")
    lines = dict(l.split("\t", 1) for l in r.stdout.split("\n\n")[0].splitlines()[1:])
    assert lines[MB] == "-\tAmerica/New_York:2\t-\tAmerica/New_York\tok"
    assert lines["carol@example.com"] == "Europe/Paris\t-\t-\tEurope/Paris\tok"
    assert lines["dave@example.com"].endswith("\t-\tnone")
    assert lines["bob@example.com"].endswith("\tconflict")
    calfs.mount()
    assert calfs.path(".calfs", "timezones.tsv").read_text() == r.stdout.split("\n\n")[0] + "\n"
    conflicts = calfs.path(".calfs", "conflicts.txt").read_text()
    assert 'bob@example.com/Calendar/custom.ics\tTZID "Custom Central"' in conflicts
    assert "America/Mexico_City" in conflicts
    assert calfs.path(".calfs", "nonexistent.txt").read_text() == "dave@example.com\n"
    # the conflicted item is left as it is
    assert calfs.path("bob@example.com", "Calendar", "custom.ics").read_bytes() == custom
    # the mailbox's zone settles it
    calfs.path("bob@example.com", ".calfs", "timezone").write_text("America/Chicago\n")
    check_against_tzdata(calfs.path("bob@example.com", "Calendar", "custom.ics").read_text(),
                         "America/Chicago")
    calfs.umount()


def meeting(organizer):
    std, dst, std_rule = OLD_US["Eastern"]
    return calendar(vtimezone(EASTERN, std, dst, std_rule),
                    event("meeting", "20070105T100000", EASTERN, "FREQ=WEEKLY;COUNT=20",
                          extra=["ORGANIZER;CN=Organizer:mailto:" + organizer,
                                 "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.net",
                                 "SEQUENCE:1"]))


def test_outbox_updates(calfs):
    calfs.set_conf("[mailbox room@example.com]\n"
                          "suppress_updates=true\n")
    calfs.import_items(MB, {"other.ics": eastern_series()})
    calfs.import_items("room@example.com", {"other.ics": eastern_series()})
    calfs.mount()
    calfs.path(MB, "Calendar", "meeting.ics").write_bytes(meeting(MB))
    calfs.path("room@example.com", "Calendar", "meeting.ics").write_bytes(meeting("room@example.com"))
    # somebody else's meeting: not ours to announce
    calfs.path(MB, "Calendar", "theirs.ics").write_bytes(
        meeting("carol@example.com").replace(b"UID:meeting", b"UID:theirs"))
    calfs.umount()
    new = calfs.dir / "outbox" / MB / "new"
    sent = os.listdir(new)
    assert len(sent) == 1
    with open(new / sent[0], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "bob@example.net"
    part = [p for p in msg.walk() if p.get_content_type() == "text/calendar"][0]
    assert part.get_param("method") == "REQUEST"
    check_against_tzdata(part.get_content(), "America/New_York")
    assert not (calfs.dir / "outbox" / "room@example.com").exists()


REAL = SHARED / "fixtures" / "real"
EXPECTED = {  # TZID in the real files -> the zone it means
    "Pacific Time (US & Canada), Tijuana": "America/Los_Angeles",
    "Eastern Time (US & Canada)": "America/New_York",
    "(GMT-05.00) Eastern Time (US & Canada)": "America/New_York",
    "Eastern Standard Time": "America/New_York",
    "Kuala Lumpur, Singapore": "Asia/Singapore",
    "custom_America/New_York": "America/New_York",
    "W. Europe Standard Time": "Europe/Berlin",
    "Canberra, Melbourne, Sydney": "Australia/Sydney",
    "Pacific Standard Time": "America/Los_Angeles",
    "Central Standard Time": "America/Chicago",
    "US Mountain Standard Time": "America/Phoenix",
}


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
def test_real_fixtures_correct_times(calfs):
    r = calfs.run("import", MB, *sorted(REAL.glob("*.ics")), check=False)
    assert r.returncode == (0 if " 0 skipped" in r.stdout else 1), r.stdout + r.stderr
    calfs.mount()
    checked = 0
    for name in sorted(os.listdir(calfs.path(MB, "Calendar"))):
        text = calfs.path(MB, "Calendar", name).read_text()
        try:
            cal = read(text)
        except Exception:
            continue        # damaged beyond what vobject reads (broken folds)
        for ev in cal.vevent_list:
            if not hasattr(ev, "dtstart"):
                continue
            # vobject moves the TZID into the value; it resolves no tzinfo
            # for some real VTIMEZONEs (it says so on the log): not checked
            tzid = getattr(getattr(ev.dtstart.value, "tzinfo", None), "_tzid", None)
            if tzid not in EXPECTED:
                continue
            z = ZoneInfo(EXPECTED[tzid])
            try:
                rs = ev.getrruleset(addRDate=True)
                times = list(rs)[:60] if rs else [ev.dtstart.value]
            except TypeError:
                # dateutil cannot mix the naive EXDATEs of one file with
                # aware starts: check the start alone
                times = [ev.dtstart.value]
            for t in times:
                want = t.replace(tzinfo=None).replace(tzinfo=z).astimezone(timezone.utc)
                assert t.astimezone(timezone.utc) == want, (name, tzid, t)
                checked += 1
    assert checked >= 10
    calfs.umount()


def fixed_vtimezone(tzid, offset, cdo=None):
    """A VTIMEZONE without DST, as Outlook wrote it."""
    lines = ["BEGIN:VTIMEZONE", "TZID:" + tzid]
    if cdo is not None:
        lines.append("X-MICROSOFT-CDO-TZID:%d" % cdo)
    return lines + ["BEGIN:STANDARD", "DTSTART:16010101T000000",
                    "TZOFFSETFROM:%+03d00" % offset, "TZOFFSETTO:%+03d00" % offset,
                    "END:STANDARD", "END:VTIMEZONE"]


def test_contradicting_evidence_moves_nothing(calfs):
    """A CDO id, a display name or a Windows id that contradicts the
    VTIMEZONE's own offsets is not used: the next evidence decides, the
    item does not move by hours, and conflicts.txt and the fixes xattr
    say what was not used and why."""
    arizona = "(GMT-07.00) Arizona"
    items = {
        # CDO id 15 is Hawaii: -10:00, not the -07:00 of the VTIMEZONE and the name
        "cdo.ics": calendar(fixed_vtimezone(arizona, -7, cdo=15),
                            event("cdo", "20070612T100000", arizona, "FREQ=WEEKLY;COUNT=60")),
        # the name says Eastern, the VTIMEZONE says Central Europe
        "name.ics": calendar(vtimezone(EASTERN, 1, "BYMONTH=3;BYDAY=-1SU", "BYMONTH=10;BYDAY=-1SU"),
                             event("name", "20070612T100000", EASTERN, "FREQ=WEEKLY;COUNT=60")),
        # the Windows id says Pacific, the VTIMEZONE's offsets are Eastern's
        "windows.ics": calendar(vtimezone("Pacific Standard Time", -5, "BYMONTH=3;BYDAY=2SU",
                                          "BYMONTH=11;BYDAY=1SU"),
                                event("windows", "20070612T100000", "Pacific Standard Time",
                                      "FREQ=WEEKLY;COUNT=60")),
    }
    calfs.import_items(MB, items)
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    why = {n: os.getxattr(cal / n, "user.calfs.fixes").decode() for n in items}
    assert 'TZID "%s": CDO id 15 (Pacific/Honolulu) contradicts the VTIMEZONE\'s -07:00:' \
           ' not used' % arizona in why["cdo.ics"]
    assert "contradicts the VTIMEZONE's +01:00/+02:00: not used" in why["name.ics"]
    assert 'the name "Pacific Standard Time" (America/Los_Angeles) contradicts the' \
           " VTIMEZONE's -05:00/-04:00: not used" in why["windows.ics"]
    # nothing moved by hours: each reads as its VTIMEZONE's offsets say
    check_against_tzdata((cal / "cdo.ics").read_text(), "America/Phoenix")
    check_against_tzdata((cal / "name.ics").read_text(), "Europe/Berlin")
    check_against_tzdata((cal / "windows.ics").read_text(), "America/New_York")
    assert (cal / "cdo.ics").read_bytes() == items["cdo.ics"]
    assert (cal / "name.ics").read_bytes() == items["name.ics"]
    conflicts = calfs.path(".calfs", "conflicts.txt").read_text()
    for n in items:
        assert "%s/Calendar/%s\tTZID" % (MB, n) in conflicts, (n, conflicts)
    assert "CDO id 15 (Pacific/Honolulu) contradicts" in conflicts
    calfs.umount()


def test_write_repairs_named_in_the_journal(calfs):
    """A write stored repaired and rebased (repair_on_write) says what was
    done, in the words of user.calfs.fixes: calfs journal RUN and the
    mailbox's .calfs/log."""
    from test_repair import organizer_item
    calfs.import_items(MB, {"keep.ics": eastern_series("keep")})
    calfs.mount()
    calfs.path(MB, "Calendar", "m1.ics").write_bytes(organizer_item())
    calfs.path(MB, "Calendar", "series.ics").write_bytes(eastern_series())
    log = calfs.path(MB, ".calfs", "log").read_text()
    calfs.umount()
    run = calfs.run("journal").stdout.splitlines()[1].split("\t")[0]
    entries = calfs.run("journal", run).stdout
    m1 = [l for l in entries.splitlines() if "\tcreate\t%s/Calendar/m1.ics\t" % MB in l]
    assert len(m1) == 1 and "X-REPLYTIME of mailto:" in m1[0] and "rule T4" in m1[0]
    assert '\tcreate\t%s/Calendar/series.ics\tVTIMEZONE "%s" \u2192 tzdata America/New_York' \
           % (MB, EASTERN) in entries
    assert "create %s/Calendar/series.ics: repaired: VTIMEZONE" % MB in log
    assert re.search("create %s/Calendar/m1.ics: repaired: .*X-REPLYTIME of mailto:" % MB, log)


def test_tzdata_change_while_mounted(calfs, tmp_path):
    """A new tzdata while mounted ($TZDIR here): what it changes is
    rendered anew at once, the kernel drops what it kept, the mtimes of
    the item and its calendar move; calfs fix then stores the rebase."""
    zi = tmp_path / "zoneinfo"
    shutil.copytree("/usr/share/zoneinfo", zi, symlinks=True)
    env = dict(os.environ, TZDIR=str(zi))
    # a meeting across March 2030, rebased under today's tzdata
    calfs.import_items(MB, {"series.ics": eastern_series("series", "FREQ=WEEKLY;COUNT=80",
                                                         "20290701T100000")})
    calfs.run("fix", env=env)
    calfs.mount(env=env)
    item = calfs.path(MB, "Calendar", "series.ics")
    before, st = item.read_text(), os.stat(item)
    cal_mtime = os.stat(calfs.path(MB, "Calendar")).st_mtime_ns
    assert os.getxattr(item, "user.calfs.fixes") == b""
    # a New York that from 2030 keeps DST from April to October
    rules = tmp_path / "ny.zi"
    rules.write_text("Rule T 1967 2006 - Oct lastSun 2:00 0 S\n"
                     "Rule T 1987 2006 - Apr Sun>=1 2:00 1:00 D\n"
                     "Rule T 2007 2029 - Mar Sun>=8 2:00 1:00 D\n"
                     "Rule T 2007 2029 - Nov Sun>=1 2:00 0 S\n"
                     "Rule T 2030 max - Apr Sun>=1 2:00 1:00 D\n"
                     "Rule T 2030 max - Oct lastSun 2:00 0 S\n"
                     "Zone America/New_York -5:00 T E%sT\n")
    subprocess.run(["zic", "-d", str(zi), str(rules)], check=True)
    text = (zi / "tzdata.zi").read_text()
    (zi / "tzdata.zi").write_text(re.sub(r"^# version \S+", "# version 2099z", text))
    wait_for(lambda: item.read_text() != before, 10, "the new tzdata to show")
    after = item.read_text()
    assert "X-CALFS-REBASED:America/New_York;tzdata-2099z" in after
    assert "BYMONTH=4" in after
    assert "occurrences moved" in os.getxattr(item, "user.calfs.fixes").decode()
    assert os.stat(item).st_mtime_ns > st.st_mtime_ns
    assert os.stat(calfs.path(MB, "Calendar")).st_mtime_ns > cal_mtime
    assert "tzdata 2099z" in calfs.log_text()
    calfs.umount()
    calfs.run("fix", env=env)
    raw = calfs.db().one("select data from items where name = 'series.ics'")[0].decode()
    assert "X-CALFS-REBASED:America/New_York;tzdata-2099z" in raw
