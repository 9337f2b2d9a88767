"""A corpus of malformed and hostile calendar files: what decades of
clients and broken gateways wrote.  Deterministic; each entry is
(name, bytes).  Used by test_hardening.py, which writes every one through
the mount."""
import random

CRLF = "\r\n"


def item(uid="m", body=("DTSTART:20200101T100000Z", "SUMMARY:x"), cal_props=(), eol=CRLF,
         comps=None):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calfs//malformed//EN"]
    lines += list(cal_props)
    if comps is None:
        comps = [["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20200101T000000Z"] + list(body)
                 + ["END:VEVENT"]]
    for c in comps:
        lines += c
    lines += ["END:VCALENDAR"]
    return (eol.join(lines) + eol).encode("utf-8", "surrogateescape")


VTZ_OLD_EASTERN = [
    "BEGIN:VTIMEZONE", "TZID:(GMT-05.00) Eastern Time (US & Canada)",
    "BEGIN:STANDARD", "DTSTART:16010101T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "END:DAYLIGHT", "END:VTIMEZONE"]


def corpus():
    rnd = random.Random(2007)
    out = []
    base = item("base", ("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z",
                         "SUMMARY:base", "ATTENDEE;PARTSTAT=ACCEPTED;"
                         "X-REPLYTIME=16010101T000000Z:mailto:bob@example.com",
                         "ORGANIZER:mailto:alice@example.com"))

    # truncated at many points
    for i, cut in enumerate(sorted(rnd.sample(range(1, len(base)), 40))):
        out.append(("truncated-%02d" % i, base[:cut]))
    # wrong nesting
    nestings = [
        ["BEGIN:VEVENT", "UID:n", "END:VEVENT"],
        ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:n", "END:VCALENDAR", "END:VEVENT"],
        ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:n", "END:VTODO", "END:VCALENDAR"],
        ["BEGIN:VCALENDAR", "BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:n", "END:VEVENT",
         "END:VCALENDAR", "END:VCALENDAR"],
        ["BEGIN:VCALENDAR", "END:VCALENDAR"],
        ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "BEGIN:VEVENT", "UID:n", "END:VEVENT",
         "END:VEVENT", "END:VCALENDAR"],
        ["BEGIN:VCALENDAR", "BEGIN:VALARM", "ACTION:DISPLAY", "END:VALARM", "END:VCALENDAR"],
        ["BEGIN:VCALENDAR", "BEGIN:", "END:", "END:VCALENDAR"],
        ["END:VCALENDAR", "BEGIN:VCALENDAR"],
        ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:n", "END:VEVENT", "END:VCALENDAR",
         "BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:n2", "END:VEVENT", "END:VCALENDAR"],
    ]
    for i, lines in enumerate(nestings):
        out.append(("nesting-%02d" % i, (CRLF.join(lines) + CRLF).encode()))
    # recursion-like nesting
    for depth in (50, 500, 5000):
        comps = [["BEGIN:VEVENT", "UID:deep"] + ["BEGIN:X-DEEP"] * depth
                 + ["END:X-DEEP"] * depth + ["END:VEVENT"]]
        out.append(("deep-%d" % depth, item(comps=comps)))
        out.append(("deep-unclosed-%d" % depth,
                    item(comps=[["BEGIN:VEVENT", "UID:deep"] + ["BEGIN:VALARM"] * depth
                                + ["END:VEVENT"]])))
    # huge lines
    for n in (10000, 300000, 2000000):
        out.append(("huge-summary-%d" % n, item("huge", ("DTSTART:20200101T100000Z",
                                                          "SUMMARY:" + "x" * n))))
    out.append(("huge-param", item("hp", ("DTSTART;X-P=" + "y" * 200000 + ":20200101T100000Z",))))
    out.append(("huge-name", item("hn", ("X-" + "N" * 100000 + ":v",))))
    out.append(("huge-uid", item("u" * 100000)))
    # NUL bytes and control characters
    for i, pos in enumerate(rnd.sample(range(len(base)), 10)):
        out.append(("nul-%02d" % i, base[:pos] + b"\x00" + base[pos:]))
    out.append(("controls", item("ctl", ("SUMMARY:a\x01\x02\x1b[31mred\x7f",))))
    # invalid UTF-8
    for i, junk in enumerate([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                              b"\xc0\xaf", b"\xfe\xfe", b"\x80" * 10]):
        out.append(("utf8-%02d" % i, base.replace(b"SUMMARY:base", b"SUMMARY:" + junk)))
    out.append(("latin1", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:l\r\nSUMMARY:Réunion\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n".encode("latin-1")))
    out.append(("utf16", item("u16").decode().encode("utf-16")))
    out.append(("bom", b"\xef\xbb\xbf" + item("bom")))
    # many attendees
    for n in (1000, 10000):
        atts = ["ATTENDEE;CN=P%d;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z:"
                "mailto:p%d@example.com" % (i, i) for i in range(n)]
        out.append(("attendees-%d" % n, item("att%d" % n, ["DTSTART:20200101T100000Z",
                                                            "ORGANIZER:mailto:o@example.com"]
                                             + atts)))
    # absurd dates
    dates = ["00000101T000000Z", "99991231T235959Z", "20071345T100000Z", "20070230T100000Z",
             "2007", "20070101T250000", "20070101T106099", "-20070101T100000Z",
             "20070101T100000ZZ", "20070101", "18000101T000000", "16010101T000000Z",
             "20380119T031408Z", "21060207T062816Z", "0", "", "20070311T023000",
             "20071104T013000", "T100000", "2007-03-11T02:30:00"]
    for i, d in enumerate(dates):
        out.append(("date-%02d" % i, item("d%d" % i, ("DTSTART:" + d, "DTEND:" + d))))
        out.append(("date-tz-%02d" % i, item("dz%d" % i, (
            "DTSTART;TZID=America/New_York:" + d, "RRULE:FREQ=DAILY;UNTIL=" + d),)))
    rrules = ["FREQ=SECONDLY", "FREQ=YEARLY;COUNT=1000000", "FREQ=DAILY;INTERVAL=0",
              "FREQ=MONTHLY;BYDAY=53MO", "FREQ=WEEKLY;BYDAY=XX", "FREQ=", "COUNT=-1",
              "FREQ=YEARLY;BYMONTH=13", "FREQ=YEARLY;BYYEARDAY=400", "FREQ=MINUTELY;UNTIL=99991231T000000Z"]
    for i, r in enumerate(rrules):
        out.append(("rrule-%02d" % i, item(comps=[VTZ_OLD_EASTERN, [
            "BEGIN:VEVENT", "UID:r%d" % i, "DTSTAMP:20060101T000000Z",
            "DTSTART;TZID=(GMT-05.00) Eastern Time (US & Canada):20060402T100000",
            "RRULE:" + r, "END:VEVENT"]])))
    # bad TZIDs and VTIMEZONEs
    tzids = ["Nowhere/Atlantis", "", "\"quoted\"", "(GMT-05.00)", "(GMT-99:99) Mars",
             "/mozilla.org/20050126_1/", "../../etc/passwd", "a" * 5000, "Europe/London;x=y",
             "America/New_York\\,Eastern"]
    for i, t in enumerate(tzids):
        out.append(("tzid-%02d" % i, item("t%d" % i, ("DTSTART;TZID=%s:20070315T100000" % t,))))
    broken_vtz = [
        ["BEGIN:VTIMEZONE", "TZID:Empty", "END:VTIMEZONE"],
        ["BEGIN:VTIMEZONE", "BEGIN:STANDARD", "END:STANDARD", "END:VTIMEZONE"],
        ["BEGIN:VTIMEZONE", "TZID:Odd", "BEGIN:STANDARD", "DTSTART:16010101T020000",
         "TZOFFSETFROM:+9999", "TZOFFSETTO:-9999", "END:STANDARD", "END:VTIMEZONE"],
        ["BEGIN:VTIMEZONE", "TZID:Loop", "BEGIN:DAYLIGHT", "DTSTART:16010101T020000",
         "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "RRULE:FREQ=SECONDLY", "END:DAYLIGHT",
         "END:VTIMEZONE"],
        ["BEGIN:VTIMEZONE", "TZID:Rdate", "BEGIN:STANDARD", "DTSTART:20070101T000000",
         "RDATE:" + ",".join("2007%02d01T000000" % m for m in range(1, 13)) * 50,
         "TZOFFSETFROM:-0500", "TZOFFSETTO:-0500", "END:STANDARD", "END:VTIMEZONE"],
    ]
    for i, v in enumerate(broken_vtz):
        tz = [l for l in v if l.startswith("TZID:")]
        name = tz[0][5:] if tz else "Missing"
        out.append(("vtimezone-%02d" % i, item(comps=[v, [
            "BEGIN:VEVENT", "UID:v%d" % i, "DTSTAMP:20060101T000000Z",
            "DTSTART;TZID=%s:20070315T100000" % name, "RRULE:FREQ=WEEKLY;COUNT=3",
            "END:VEVENT"]])))
    # properties and parameters gone wrong
    odd = ["UID;X=1", "UID:", ":value", "DTSTART;TZID", "DTSTART;;;:20070101T000000Z",
           "ATTENDEE;PARTSTAT=\"unterminated:mailto:x@example.com",
           "ATTENDEE;X-REPLYTIME=notatime:mailto:x@example.com",
           "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z",
           "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:garbage", "SEQUENCE:-99999999999999",
           "SEQUENCE:abc", "PRIORITY:1e308", "GEO:1000;1000", "DURATION:P-1D",
           "DURATION:PT99999999999H", "RECURRENCE-ID:bad", "EXDATE:,,,", "TRIGGER:P",
           "STATUS:CANCELLED;X=Y", "CLASS:" + "\\" * 1000, "DESCRIPTION:\\", "SUMMARY:\\n\\,\\;\\\\",
           "BEGIN:VALARM", "END:VALARM", "X-:x", "-:x", "X-A\tB:c"]
    for i, l in enumerate(odd):
        out.append(("property-%02d" % i, item("p%d" % i, ("DTSTART:20200101T100000Z", l))))
    # line endings and folding
    out.append(("lf-only", item("lf", eol="\n")))
    out.append(("cr-only", item("cr", eol="\r")))
    out.append(("mixed-eol", item("mx").replace(b"\r\n", b"\n", 3)))
    out.append(("fold-in-name", item("f", ("DTST\r\n ART:20200101T100000Z",))))
    out.append(("fold-at-end", item("fe") + b" continued"))
    out.append(("only-folds", b"\r\n \r\n \r\n"))
    out.append(("empty", b""))
    out.append(("spaces", b"   \r\n\t\r\n"))
    out.append(("binary", bytes(rnd.randrange(256) for _ in range(4096))))
    # several UIDs, overrides, components of every kind
    out.append(("two-uids", item(comps=[["BEGIN:VEVENT", "UID:a", "END:VEVENT"],
                                        ["BEGIN:VEVENT", "UID:b", "END:VEVENT"]])))
    out.append(("no-uid", item(comps=[["BEGIN:VEVENT", "DTSTART:20200101T100000Z", "END:VEVENT"]])))
    out.append(("two-uid-lines", item("a", ("UID:b",))))
    out.append(("override-only", item("o", ("RECURRENCE-ID:20200101T100000Z",))))
    out.append(("mixed-kinds", item(comps=[["BEGIN:VTODO", "UID:k", "END:VTODO"],
                                           ["BEGIN:VJOURNAL", "UID:k", "END:VJOURNAL"]])))
    out.append(("vfreebusy", item(comps=[["BEGIN:VFREEBUSY", "UID:fb",
                                          "FREEBUSY:20200101T100000Z/PT1H", "END:VFREEBUSY"]])))
    out.append(("method-reply", item("rp", cal_props=("METHOD:REPLY",))))
    # random byte flips of a good item
    while len(out) < 230:
        b = bytearray(base)
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        out.append(("flip-%03d" % len(out), bytes(b)))
    return out
