// icaljs.mjs - the instants Mozilla's ical.js (Thunderbird's reader)
// computes for each VEVENT and VTODO of each file, as JSON on stdout:
// {file: [instants or null, ...]} or {file: {"error": why}}.
//
//   node icaljs.mjs PATH/TO/ical.js/dist/ical.js FILE...
//
// A master's occurrences come from ICAL.Event's iterator (DTSTART, RRULE,
// RDATE, EXDATE), an override's from its DTSTART; date-times as Unix
// time, dates as YYYY-MM-DD, floating times as null.  The VTIMEZONEs are
// the file's own (ical.js finds them in the component tree).
import { readFileSync } from 'node:fs';

const ICAL = (await import(process.argv[2])).default;
const HORIZON = Date.UTC(2037, 10, 1) / 1000;

function value(t) {
  if (t.isDate) {
    const p = (n, w) => String(n).padStart(w, '0');
    return `${p(t.year, 4)}-${p(t.month, 2)}-${p(t.day, 2)}`;
  }
  return t.toUnixTime();
}

function floating(prop, t) {
  return !t.isDate && !prop.getParameter('tzid') && t.zone !== ICAL.Timezone.utcTimezone;
}

function item(c) {
  const ds = c.getFirstProperty('dtstart');
  if (!ds)
    return null;
  const start = ds.getFirstValue();
  if (floating(ds, start))
    return null;
  if (c.name === 'vtodo' || c.getFirstProperty('recurrence-id'))
    return [value(start)];
  const it = new ICAL.Event(c).iterator();
  const out = new Set();
  for (let t = it.next(); t; t = it.next()) {
    const v = value(t);
    if (typeof v === 'number' ? v >= HORIZON : v >= '2037-11-01')
      break;
    out.add(v);
  }
  return [...out].sort((a, b) => String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
}

const result = {};
for (const file of process.argv.slice(3)) {
  try {
    const root = new ICAL.Component(ICAL.parse(readFileSync(file, 'utf8')));
    result[file] = root.getAllSubcomponents()
      .filter((c) => c.name === 'vevent' || c.name === 'vtodo').map(item);
  } catch (e) {
    result[file] = { error: String(e && e.message || e) };
  }
}
process.stdout.write(JSON.stringify(result));
