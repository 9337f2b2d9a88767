#!/usr/bin/python3
"""Items written across tzdata rule changes, as Outlook and Exchange wrote
them, with what they mean.

    rulechange.py OUTDIR

writes OUTDIR/src/<mailbox>/<item>.ics, one mailbox per change, and in
OUTDIR/truth the files tests/conformance/harness.py takes: zones.tsv
(each TZID's tzdata zone), expect.tsv (each UTC event's UID and the
instant its local time is in tzdata) and mailboxes.tsv (each mailbox's
zone, for mount.conf).  The changes: the United States 2007, New Zealand
2007, Australia 2008, Russia 2011 and 2014, Brazil 2019, Mexico 2022,
and two zones without DST.  Per change:

  old-series   a weekly meeting across the change, its VTIMEZONE the old
               yearly rule (DTSTART 1601, as Outlook wrote it)
  new-series   one created after the change, with the new rule
  old-single-* single events stored in UTC, converted with the old rule
               when they were created: in the weeks the rules differ, and
               in weeks where they agree
  new-single   a single UTC event created after the change took effect,
               converted with the new rule: it must not move
  birthday     a yearly all-day event: dates never move
"""

import os
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CRLF = "\r\n"


def nth(year, month, week, hour, weekday=6):
    """The week-th (-1: last) weekday (0 Monday .. 6 Sunday) of month, at hour."""
    if week > 0:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7 + 7 * (week - 1))
    else:
        d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        d -= timedelta(days=(d.weekday() - weekday) % 7)
    return datetime(d.year, d.month, d.day, hour)


class Rule:
    """A yearly rule as Outlook's VTIMEZONE gave it: std and dst offsets
    (hours), the DST start and end (month, week, hour), or no DST."""

    def __init__(self, std, dst=None, on=None, off=None):
        self.std, self.dst, self.on, self.off = std, dst, on, off

    def offset(self, local):
        if self.dst is None:
            return self.std
        on, off = nth(local.year, *self.on), nth(local.year, *self.off)
        if on < off:
            return self.dst if on <= local < off else self.std
        return self.dst if local >= on or local < off else self.std

    def vtimezone(self, tzid, cdo=None):
        def hhmm(h):
            return "%+03d%02d" % (int(h), abs(h) % 1 * 60)
        lines = ["BEGIN:VTIMEZONE", "TZID:" + tzid]
        if self.dst is None:
            lines += ["BEGIN:STANDARD", "DTSTART:16010101T000000",
                      "TZOFFSETFROM:" + hhmm(self.std), "TZOFFSETTO:" + hhmm(self.std),
                      "END:STANDARD"]
        else:
            for kind, (m, w, h), frm, to in (("STANDARD", self.off, self.dst, self.std),
                                             ("DAYLIGHT", self.on, self.std, self.dst)):
                lines += ["BEGIN:" + kind, "DTSTART:16010101T%02d0000" % h,
                          "TZOFFSETFROM:" + hhmm(frm), "TZOFFSETTO:" + hhmm(to),
                          "RRULE:FREQ=YEARLY;BYDAY=%dSU;BYMONTH=%d" % (w, m), "END:" + kind]
        if cdo is not None:
            lines.append("X-MICROSOFT-CDO-TZID:%d" % cdo)
        return lines + ["END:VTIMEZONE"]


# (mailbox, zone, TZID as written, CDO id, old rule, new rule, the day the
#  change took effect, a local time in weeks the rules differ, one where
#  they agree, a date created after the change with a time it must not move)
CASES = [
    ("us2007", "America/New_York", "(GMT-05.00) Eastern Time (US & Canada)", 10,
     Rule(-5, -4, (4, 1, 2), (10, -1, 2)), Rule(-5, -4, (3, 2, 2), (11, 1, 2)),
     datetime(2007, 3, 11), datetime(2007, 3, 20, 9), datetime(2007, 6, 12, 14),
     (datetime(2007, 4, 10), datetime(2007, 10, 30, 10))),
    ("nz2007", "Pacific/Auckland", "(GMT+12:00) Auckland, Wellington", None,
     Rule(12, 13, (10, 1, 2), (3, 3, 3)), Rule(12, 13, (9, -1, 2), (4, 1, 3)),
     datetime(2007, 9, 30), datetime(2007, 10, 3, 9), datetime(2007, 12, 4, 11),
     (datetime(2007, 11, 15), datetime(2008, 3, 25, 9))),
    ("au2008", "Australia/Sydney", "(GMT+10:00) Canberra, Melbourne, Sydney", None,
     Rule(10, 11, (10, -1, 2), (3, -1, 3)), Rule(10, 11, (10, 1, 2), (4, 1, 3)),
     datetime(2008, 4, 6), datetime(2008, 4, 2, 9), datetime(2008, 1, 15, 10),
     (datetime(2008, 4, 20), datetime(2008, 10, 14, 9))),
    ("ru2011", "Europe/Moscow", "(GMT+03:00) Moscow, St. Petersburg, Volgograd", None,
     Rule(3, 4, (3, -1, 2), (10, -1, 3)), Rule(4),
     datetime(2011, 3, 27), datetime(2011, 11, 15, 10), datetime(2011, 7, 12, 10),
     (datetime(2012, 1, 10), datetime(2012, 12, 4, 10))),
    ("ru2014", "Europe/Volgograd", "(UTC+03:00) Volgograd", None,
     Rule(4), Rule(3),
     datetime(2014, 10, 26), datetime(2014, 12, 2, 10), datetime(2014, 6, 3, 10),
     (datetime(2014, 11, 10), datetime(2015, 2, 3, 10))),
    ("br2019", "America/Sao_Paulo", "(GMT-03:00) Brasilia", None,
     Rule(-3, -2, (11, 1, 0), (2, 3, 0)), Rule(-3),
     datetime(2019, 2, 17), datetime(2019, 11, 20, 10), datetime(2019, 5, 14, 10),
     (datetime(2019, 4, 1), datetime(2019, 12, 10, 10))),
    ("mx2022", "America/Mexico_City", "(GMT-06:00) Guadalajara, Mexico City, Monterrey", None,
     Rule(-6, -5, (4, 1, 2), (10, -1, 2)), Rule(-6),
     datetime(2022, 10, 30), datetime(2023, 5, 16, 9), datetime(2023, 1, 17, 9),
     (datetime(2022, 12, 10), datetime(2023, 4, 20, 9))),
]
NO_DST = [
    ("tokyo", "Asia/Tokyo", "(GMT+09:00) Osaka, Sapporo, Tokyo", Rule(9)),
    ("phoenix", "America/Phoenix", "(GMT-07:00) Arizona", Rule(-7)),
]


def stamp(dt):
    return dt.strftime("%Y%m%dT%H%M%SZ")


def calendar(blocks):
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Microsoft Corporation//Outlook 11.0 MIMEDIR//EN",
             "VERSION:2.0", "METHOD:PUBLISH"]
    for b in blocks:
        lines += b
    return CRLF.join(lines + ["END:VCALENDAR"]) + CRLF


def event(uid, created, start_lines, extra=()):
    return (["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + stamp(created),
             "CREATED:" + stamp(created), "LAST-MODIFIED:" + stamp(created), "SUMMARY:" + uid,
             "X-MICROSOFT-CDO-BUSYSTATUS:BUSY"] + start_lines + list(extra) +
            ["END:VEVENT"])


def series(uid, tzid, first, weeks, created, vtz, cdo=None):
    extra = ["X-MICROSOFT-CDO-TZID:%d" % cdo] if cdo is not None else []
    return calendar([vtz, event(uid, created, [
        'DTSTART;TZID="%s":%s' % (tzid, first.strftime("%Y%m%dT%H%M%S")),
        'DTEND;TZID="%s":%s' % (tzid, (first + timedelta(hours=1)).strftime("%Y%m%dT%H%M%S")),
        "RRULE:FREQ=WEEKLY;COUNT=%d;BYDAY=%s" % (weeks, ["MO", "TU", "WE", "TH", "FR", "SA",
                                                      "SU"][first.weekday()])], extra)])


def single(uid, local, rule, created, expect, zone):
    """A UTC event at local time as a program knowing rule stored it."""
    utc = local - timedelta(hours=rule.offset(local))
    expect[uid] = local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    return calendar([event(uid, created, ["DTSTART:" + stamp(utc),
                                          "DTEND:" + stamp(utc + timedelta(hours=1))])])


def birthday(uid, day, created):
    return calendar([event(uid, created, [
        "DTSTART;VALUE=DATE:" + day.strftime("%Y%m%d"),
        "DTEND;VALUE=DATE:" + (day + timedelta(days=1)).strftime("%Y%m%d"),
        "RRULE:FREQ=YEARLY", "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE"])])


def write(out, mailbox, name, text):
    d = os.path.join(out, "src", mailbox + "@rulechange.test")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".ics"), "w", newline="") as f:
        f.write(text)


def main(out):
    zones, expect, boxes = {}, {}, {}
    for (mb, zone, tzid, cdo, old, new, change, differ, agree, (made, keep)) in CASES:
        zones[tzid] = zone
        boxes[mb + "@rulechange.test"] = zone
        before = change - timedelta(days=200)
        after = change + timedelta(days=20)
        write(out, mb, "old-series", series(mb + "-old-series", tzid, before + timedelta(hours=10),
                                            90, before - timedelta(days=30),
                                            old.vtimezone(tzid, cdo), cdo))
        write(out, mb, "new-series", series(mb + "-new-series", tzid, after + timedelta(hours=10),
                                            90, after - timedelta(days=10),
                                            new.vtimezone(tzid, cdo), cdo))
        write(out, mb, "old-single-differ", single(mb + "-old-single-differ", differ, old,
                                                   before, expect, zone))
        write(out, mb, "old-single-agree", single(mb + "-old-single-agree", agree, old,
                                                  before, expect, zone))
        write(out, mb, "new-single", single(mb + "-new-single", keep, new, made, expect, zone))
        write(out, mb, "birthday", birthday(mb + "-birthday", date(change.year - 3, 3, 28),
                                            before))
    for mb, zone, tzid, rule in NO_DST:
        zones[tzid] = zone
        boxes[mb + "@rulechange.test"] = zone
        made = datetime(2006, 11, 1)
        write(out, mb, "series", series(mb + "-series", tzid, datetime(2006, 12, 4, 10), 120,
                                        made, rule.vtimezone(tzid)))
        write(out, mb, "single", single(mb + "-single", datetime(2007, 3, 20, 9), rule, made,
                                        expect, zone))
    os.makedirs(os.path.join(out, "truth"), exist_ok=True)
    for name, table in (("zones", zones), ("mailboxes", boxes)):
        with open(os.path.join(out, "truth", name + ".tsv"), "w") as f:
            f.writelines("%s\t%s\n" % kv for kv in sorted(table.items()))
    with open(os.path.join(out, "truth", "expect.tsv"), "w") as f:
        f.writelines("%s\t%s\n" % (u, stamp(t)) for u, t in sorted(expect.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
