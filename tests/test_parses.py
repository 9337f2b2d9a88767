"""A write through the mount is parsed by libical once; reading back what
was just written is not parsed again; a cold read is parsed at most once.
Counted with an LD_PRELOAD shim on icalparser_parse_string
(tests/parsecount.c), on items that rendering repairs and rebases."""
import os
import shutil
import subprocess

import pytest

from calfs_util import BUILD, CALFS, wait_for
from test_repair import organizer_item

MB = "alice@example.com"
SHIM = BUILD / "tests" / "parsecount.so"


def sanitized():
    syms = subprocess.run(["nm", "-D", str(CALFS)], capture_output=True, text=True).stdout
    return "__asan_init" in syms or "__tsan_init" in syms


pytestmark = [
    pytest.mark.skipif(not SHIM.exists(), reason="build/tests/parsecount.so is not built"),
    pytest.mark.skipif(sanitized(), reason="a sanitized daemon takes no uninstrumented shim"),
]

OLD_EASTERN = "\r\n".join([
    "BEGIN:VTIMEZONE", "TZID:Eastern Time (US & Canada)",
    "BEGIN:STANDARD", "DTSTART:16010101T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400",
    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU", "END:DAYLIGHT", "END:VTIMEZONE"])


def old_rule_series(summary):
    """A weekly series across 2007 under the old US rule: rebased."""
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 11.0//EN",
        OLD_EASTERN, "BEGIN:VEVENT", "UID:series", "DTSTAMP:20060101T000000Z",
        "DTSTART;TZID=\"Eastern Time (US & Canada)\":20070301T100000",
        "RRULE:FREQ=WEEKLY;COUNT=8", "SUMMARY:" + summary,
        "END:VEVENT", "END:VCALENDAR", ""]).encode()


def counter(log):
    return lambda: log.stat().st_size if log.exists() else 0


@pytest.mark.parametrize("name,make", [("m1.ics", lambda s: organizer_item(seq=3 if s else 2)),
                                       ("series.ics", lambda s: old_rule_series(s or "weekly"))],
                         ids=["repaired", "rebased"])
def test_parses_per_write_and_read(calfs, tmp_path, name, make):
    # the mailbox's zone configured: an item in UTC renders by it, and
    # the write renders by the same zone the read does (with a zone only
    # extracted from the items, a UTC item is parsed again when read)
    calfs.set_conf("[mailbox %s]\ntimezone=Europe/Berlin\n" % MB)
    calfs.import_items(MB, {name: make("")})
    log = tmp_path / "parses"
    calfs.mount(env=dict(os.environ, LD_PRELOAD=str(SHIM), CALFS_PARSE_LOG=str(log)))
    count = counter(log)
    item = calfs.path(MB, "Calendar", name)

    before = count()
    first = item.read_bytes()
    cold = count() - before
    assert cold <= 1, "a cold read parsed %d times" % cold
    assert os.getxattr(item, "user.calfs.fixes")

    new = tmp_path / "new.ics"
    new.write_bytes(make("changed"))
    before = count()
    shutil.copyfile(new, item)          # open(O_TRUNC), write, close: as cp
    written = count() - before
    assert written <= 1, "a cp was parsed %d times" % written

    before = count()
    back = item.read_bytes()
    again = count() - before
    assert again == 0, "reading back what was written parsed %d times" % again
    assert back != first and b"1601" not in back
    wait_for(lambda: item.read_bytes() == back, 2, "a settled read")
    calfs.umount()
