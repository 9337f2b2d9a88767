#!/usr/bin/python3
"""Reader conformance: do the programs people use read calfs's items as
tzdata says?

Each .ics file is read by:
  khal      python-icalendar (Debian 12: 4.0) and khal's own expansion
  vobject   Radicale's parser, its VTIMEZONEs read by dateutil
  icaljs    Mozilla's ical.js (Thunderbird's), from npm (build tree)
  libical   libical 3.0 (Evolution's), icalcomponent_foreach_recurrence
and the instants each computes for every VEVENT and VTODO (a master's
occurrences from DTSTART, RRULE, RDATE and EXDATE; an override's DTSTART)
are compared with the truth, computed independently: the local times
(dateutil on naive times) placed in the zone the TZID means by Python's
zoneinfo, which reads the system's tzdata.  Which zone a TZID means is an
IANA TZID itself, or the dataset's map (--zones FILE: "TZID<TAB>zone"
lines), never calfs's answer.  A single event stored in UTC has its own
instants as truth, unless --expect gives the instant its author meant
("UID<TAB>YYYYmmddTHHMMSSZ" lines).  All-day values are compared as
dates.  Occurrences from 2037-11 on, and local times that a DST change
makes ambiguous or skips, are left out: readers may disagree there by
design.

    harness.py [--zones FILE] [--expect FILE] [--build DIR] PATH...

PATH is a file or a directory (searched for *.ics).  Prints one line per
disagreement and a summary; exits 1 when any reader disagrees with the
truth or cannot read an item.  check(paths, ...) does the same for tests
and make bench.
"""

import argparse
import datetime as dt
import json
import logging
import os
import pathlib
import re
import subprocess
import sys
import zoneinfo

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
UTC = dt.timezone.utc
# occurrences from here on are not compared (python-icalendar stops
# expanding VTIMEZONE rules at 2038, khal expands events to 2037-12-31)
HORIZON = dt.datetime(2037, 11, 1, tzinfo=UTC)
HORIZON_TS = int(HORIZON.timestamp())
READERS = ["khal", "vobject", "icaljs", "libical"]


def _instant(value):
    """An int (Unix time) for an aware datetime, "YYYY-MM-DD" for a date,
    None for a floating time."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return int(value.timestamp())
    return value.isoformat()


def _keep(v):
    if isinstance(v, int):
        return v < HORIZON_TS
    return v < "2037-11-01"


def _items(components):
    """The VEVENT and VTODO components, in file order."""
    return [c for c in components if c.name.upper() in ("VEVENT", "VTODO")]


# ---- the readers ----

def read_khal(text):
    from icalendar import Calendar
    from icalendar.timezone_cache import _timezone_cache
    from khal.icalendar import expand
    _timezone_cache.clear()     # a process-wide cache keyed by TZID
    cal = Calendar.from_ical(text)
    out = []
    for c in _items(cal.walk()):
        if "DTSTART" not in c:
            out.append(None)
            continue
        start = c["DTSTART"].dt
        if _instant(start) is None:
            out.append(None)
            continue
        if c.name == "VTODO" or "RECURRENCE-ID" in c:
            out.append([_instant(start)])
            continue
        if "DTEND" not in c and "DURATION" not in c:
            # khal needs an end (RFC 5545 does not): give it the start
            c["DTEND"] = c["DTSTART"]
        got = expand(c)
        if got is False:
            raise ValueError("khal: the event never occurs")
        out.append(sorted({_instant(s) for s, _ in got}, key=str))
    return out


def read_vobject(text):
    import vobject
    # vobject keeps the first VTIMEZONE it saw for a TZID for the whole
    # process: each file is read with its own
    getattr(vobject.icalendar, "__tzidMap").clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    cal = vobject.readOne(text)
    out = []
    for c in _items(cal.getChildren()):
        if not hasattr(c, "dtstart"):
            out.append(None)
            continue
        start = c.dtstart.value
        if _instant(start) is None:
            out.append(None)
            continue
        if c.name == "VTODO" or hasattr(c, "recurrence_id"):
            out.append([_instant(start)])
            continue
        rs = c.getrruleset(addRDate=True)
        if rs is None:
            out.append([_instant(start)])
            continue
        got = []
        for t in rs:
            if not isinstance(start, dt.datetime):
                t = t.date()            # dateutil gives midnights for dates
            v = _instant(t)
            if not _keep(v):
                break
            got.append(v)
        out.append(sorted(set(got), key=str))
    return out


BATCH_FILES = 2000      # paths per run: an organisation's do not fit one exec


def _batch(cmd, paths):
    """Run a batch reader on paths: {path: items or {"error": why}}."""
    out = {}
    paths = [str(p) for p in paths]
    for i in range(0, len(paths), BATCH_FILES):
        r = subprocess.run(cmd + paths[i:i + BATCH_FILES], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode, r.stderr[-2000:]))
        out.update(json.loads(r.stdout))
    return out


def icaljs_cmd(build):
    script = HERE / "icaljs.mjs"
    modules = ROOT / "build" / "node" / "node_modules"     # make deps puts it there
    if not (modules / "ical.js").is_dir():
        raise RuntimeError("ical.js is not installed in %s (make deps)" % modules)
    return ["node", str(script), str(modules / "ical.js" / "dist" / "ical.js")]


def libical_cmd(build):
    exe = pathlib.Path(build) / "tests" / "libical_instants"
    if not exe.exists():
        raise RuntimeError("%s is not built (make check builds it)" % exe)
    return [str(exe)]


# ---- the truth ----

def _zone_of(tzid, zones):
    name = zones.get(tzid, tzid)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        return None


def _ambiguous(local, zone):
    """Whether a DST change makes local time in zone skipped or repeated."""
    a, b = local.replace(fold=0, tzinfo=zone), local.replace(fold=1, tzinfo=zone)
    return a.utcoffset() != b.utcoffset()


def _content_lines(text):
    """(name, params, value) of each unfolded line; a reader of its own,
    so that the truth does not depend on the readers it judges."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    for line in unfolded.splitlines():
        m = re.match(r'([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:]*)'
                     r'(?:,(?:"[^"]*"|[^";:,]*))*)*):(.*)', line)
        if not m:
            continue
        params = {}
        for pm in re.finditer(r';([A-Za-z0-9-]+)=("[^"]*"|[^;]*)', m.group(2)):
            params[pm.group(1).upper()] = pm.group(2).strip('"')
        yield m.group(1).upper(), params, m.group(3)


def _items_text(text):
    """The properties of each VEVENT and VTODO, in file order."""
    items, stack = [], []
    for name, params, value in _content_lines(text):
        if name == "BEGIN":
            stack.append(value.upper())
            if value.upper() in ("VEVENT", "VTODO") and len(stack) == 2:
                items.append((value.upper(), []))
        elif name == "END":
            if stack:
                stack.pop()
        elif len(stack) == 2 and stack[-1] in ("VEVENT", "VTODO"):
            items[-1][1].append((name, params, value))
    return items


def _time(value):
    """(naive datetime or date, is UTC)."""
    value = value.strip()
    if "T" in value:
        utc = value.endswith("Z")
        return dt.datetime.strptime(value.rstrip("Z")[:15], "%Y%m%dT%H%M%S"), utc
    return dt.datetime.strptime(value[:8], "%Y%m%d").date(), False


def truth(text, zones, expect):
    """The instants of each item as tzdata says, with the instants to
    leave out; None where there is no truth (floating times)."""
    import dateutil.rrule
    out, skip = [], []
    for kind, props in _items_text(text):
        first = {}
        for name, params, value in props:
            first.setdefault(name, (params, value))
        if "DTSTART" not in first:
            out.append(None)
            skip.append(set())
            continue
        params, value = first["DTSTART"]
        start, utc = _time(value)
        tzid = params.get("TZID")
        if not isinstance(start, dt.datetime):
            zone = None
        elif utc:
            zone = UTC
        elif tzid is None:
            out.append(None)        # floating: no instant to compare
            skip.append(set())
            continue
        else:
            zone = _zone_of(tzid, zones)
            if zone is None:
                raise KeyError("no zone known for TZID %r (give --zones)" % tzid)
        uid = first.get("UID", ({}, ""))[1]
        unsynchronized = set()
        master = "RECURRENCE-ID" not in first and kind == "VEVENT"
        if utc and uid in expect and "RRULE" not in first and "RECURRENCE-ID" not in first:
            start = expect[uid].replace(tzinfo=None)
        local = [start]
        if master and "RRULE" in first:
            rule = first["RRULE"][1]
            rr = dateutil.rrule.rrulestr(rule, dtstart=start, ignoretz=True)
            if rr._until is not None and isinstance(start, dt.datetime):
                until = re.search(r"UNTIL=([0-9TZ]+)", rule.upper()).group(1)
                u, u_utc = _time(until)
                if not isinstance(u, dt.datetime):
                    u = dt.datetime.combine(u, dt.time(23, 59, 59))
                elif u_utc:
                    u = u.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
                rr._until = u
            local = []
            for t in rr:
                if not isinstance(start, dt.datetime):
                    t = t.date()        # dateutil gives midnights for dates
                    if t.isoformat() >= "2037-11-01":
                        break
                elif t.replace(tzinfo=zone) >= HORIZON:
                    break
                local.append(t)
            if local[:1] != [start]:
                # a DTSTART the RRULE does not give: "undefined" (RFC 5545
                # 3.8.5.3), and readers differ (vobject counts it as the
                # first occurrence): the start and the end are left out
                unsynchronized.update(local[-1:] + [start])
        for name, params, value in props if master else ():
            if name not in ("RDATE", "EXDATE") or params.get("VALUE", "").upper() == "PERIOD":
                continue
            for one in value.split(","):
                v, v_utc = _time(one)
                # a UTC value is placed in the zone; one with a TZID keeps
                # its wall-clock time (the item's VTIMEZONE is what is judged)
                if v_utc and zone is not None and zone is not UTC:
                    v = v.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
                if name == "RDATE" and v not in local:
                    local.append(v)
                elif name == "EXDATE" and v in local:
                    local.remove(v)
        got, left_out = set(), set()
        for t in local + list(unsynchronized - set(local)):
            if not isinstance(t, dt.datetime):
                (left_out if t in unsynchronized else got).add(t.isoformat())
                continue
            if t in unsynchronized or (zone is not UTC and _ambiguous(t, zone)):
                left_out.add(int(t.replace(fold=0, tzinfo=zone).timestamp()))
                left_out.add(int(t.replace(fold=1, tzinfo=zone).timestamp()))
                continue
            got.add(int(t.replace(tzinfo=zone).timestamp()))
        out.append(sorted((v for v in got if _keep(v)), key=str))
        skip.append(left_out)
    return out, skip


# ---- the comparison ----

def _show(v):
    if isinstance(v, int):
        return dt.datetime.fromtimestamp(v, UTC).strftime("%Y-%m-%dT%H:%MZ")
    return str(v)


def _diff(want, got):
    missing = sorted(set(want) - set(got), key=str)
    extra = sorted(set(got) - set(want), key=str)
    parts = []
    if missing:
        parts.append("%d missing (first %s)" % (len(missing), _show(missing[0])))
    if extra:
        parts.append("%d extra (first %s)" % (len(extra), _show(extra[0])))
    return ", ".join(parts)


def ics_files(paths):
    for p in paths:
        p = pathlib.Path(p)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*.ics") if f.is_file())
        else:
            yield p


def check(paths, zones=None, expect=None, build=None, readers=READERS):
    """Compare every reader with the truth on every file: (number of items
    compared, list of problems as lines)."""
    zones = zones or {}
    expect = expect or {}
    build = build or os.environ.get("CALFS_BUILD", ROOT / "build")
    files = list(ics_files(paths))
    batch = {}
    if "icaljs" in readers:
        batch["icaljs"] = _batch(icaljs_cmd(build), files)
    if "libical" in readers:
        batch["libical"] = _batch(libical_cmd(build), files)
    problems, compared = [], 0
    for f in files:
        text = f.read_bytes().decode("utf-8")
        try:
            want, skip = truth(text, zones, expect)
        except Exception as e:      # noqa: BLE001 - the data is what is judged
            problems.append("%s: no truth: %s" % (f, e))
            continue
        for name in readers:
            try:
                if name in batch:
                    got = batch[name][str(f)]
                    if isinstance(got, dict):
                        raise ValueError(got["error"])
                else:
                    got = {"khal": read_khal, "vobject": read_vobject}[name](text)
            except Exception as e:  # noqa: BLE001 - a reader that cannot read fails
                problems.append("%s: %s cannot read it: %s" % (f, name, str(e).splitlines()[0]
                                                                 if str(e) else type(e).__name__))
                continue
            if len(got) != len(want):
                problems.append("%s: %s sees %d items, not %d" % (f, name, len(got), len(want)))
                continue
            for k, (w, g) in enumerate(zip(want, got)):
                if w is None:
                    continue
                if g is None:
                    problems.append("%s: item %d: %s finds no start" % (f, k + 1, name))
                    continue
                g = sorted((v for v in g if _keep(v) and v not in skip[k]), key=str)
                if g != w:
                    problems.append("%s: item %d: %s: %s" % (f, k + 1, name, _diff(w, g)))
        compared += sum(1 for w in want if w is not None)
    return compared, problems


def read_map(path, parse=None):
    out = {}
    if not path:
        return out
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, value = line.split("\t", 1)
        out[key] = parse(value) if parse else value
    return out


def parse_utc(text):
    return dt.datetime.strptime(text.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def main(argv=None):
    logging.disable(logging.CRITICAL)      # vobject's and khal's chatter
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zones", help="TZID<TAB>zone lines: what each TZID means")
    ap.add_argument("--expect", help="UID<TAB>UTC lines: the instant a UTC item was meant at")
    ap.add_argument("--build", help="the build directory (default: $CALFS_BUILD or build)")
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args(argv)
    compared, problems = check(a.paths, read_map(a.zones), read_map(a.expect, parse_utc),
                               a.build, a.readers.split(","))
    for p in problems:
        print(p)
    print("conformance: %d items, %d readers, %d problems" % (compared, len(a.readers.split(",")),
                                                             len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
