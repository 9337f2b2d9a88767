#!/usr/bin/python3
"""Seed corpora for the fuzz targets: items, VTIMEZONEs and messages from
the project's generator, the real fixtures of ../shared when present, the
zone names tzrules knows, mount.conf files.

usage: tests/fuzz/seeds.py OUTDIR   (makes OUTDIR/{item,zone,imip,conf}/)
"""
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "fixtures" / "real"


def put(d, data):
    if isinstance(data, str):
        data = data.encode()
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(__doc__.strip().split("\n\n")[1])
        return 0 if sys.argv[1:2] in (["-h"], ["--help"]) else 2
    out = Path(sys.argv[1])
    dirs = {k: out / k for k in ("item", "zone", "imip", "conf")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    org = out / "org"
    if not org.exists():
        subprocess.run([str(ROOT / "scripts" / "calfs-gen-org"), "--mailboxes", "6",
                        "--items", "12", "--export-items", "3", "--broken", "0.4",
                        "--replies", "4", "--seed", "11", str(org)], check=True)
    icss = sorted(org.glob("*/*/*.ics")) + sorted(org.glob("*/export.ics"))
    if REAL.is_dir():
        icss += sorted(REAL.glob("*.ics"))
    vtz = re.compile(rb"BEGIN:VTIMEZONE\r?\n.*?END:VTIMEZONE\r?\n", re.S)
    tzid = re.compile(rb"^TZID:(.*?)\r?$", re.M)
    for f in icss:
        data = f.read_bytes()
        put(dirs["item"], data)
        for m in vtz.finditer(data):
            t = tzid.search(m.group(0))
            put(dirs["zone"], (t.group(1) if t else b"") + b"\n" + m.group(0))
    for line in (ROOT / "tzrules" / "names.tsv").read_text().splitlines()[::25]:
        if line and not line.startswith("#"):
            put(dirs["zone"], line.split("\t")[1])
    for f in sorted(org.glob("*/Maildir/*/*")):
        if f.is_file():
            put(dirs["imip"], f.read_bytes())
    put(dirs["conf"], (ROOT / "mount.conf").read_text())
    put(dirs["conf"], "[store]\npath=x.db\n[policy]\nrebase=yes\ncreated_before=2007-03-11\n"
        "[mailbox alice@example.com]\ntimezone=America/Chicago\nowner=0\n")
    for d in dirs.values():
        print("%s: %d seeds" % (d, len(os.listdir(d))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
