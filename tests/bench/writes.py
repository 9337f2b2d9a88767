#!/usr/bin/python3
"""What a write through the mount costs, and reading back what was just
written: libical parses (counted by tests/parsecount.c, an LD_PRELOAD shim
on icalparser_parse_string) and time, on a generated organisation.

    writes.py [--build DIR] [--mailboxes N] [--items N] [--work DIR]

For every item: a listing (which renders it cold: a listing gives sizes),
a read, a cp of a changed copy over it (open with O_TRUNC, write, close,
as cp does), and a read of what was written.
Prints one line per phase: parses per item and items per second.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--calfs", help="the calfs binary (default: BUILD/calfs)")
    ap.add_argument("--mailboxes", type=int, default=20)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--work", default="/var/tmp/calfs-writes")
    ap.add_argument("--zones", action="store_true",
                    help="give each mailbox its zone in mount.conf, as an admin does after"
                         " calfs tz (else UTC items render by the zone their mailbox's items"
                         " tell)")
    a = ap.parse_args()
    build = pathlib.Path(a.build)
    calfs = a.calfs or str(build / "calfs")
    shim = build / "tests" / "parsecount.so"
    work = pathlib.Path(a.work)
    if work.exists():
        subprocess.run(["fusermount3", "-u", "-z", str(work / "mnt")], capture_output=True)
        shutil.rmtree(work)
    (work / "mnt").mkdir(parents=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "calfs-gen-org"), "--mailboxes",
                    str(a.mailboxes), "--items", str(a.items), "--export-items", "2",
                    "--broken", "0.3", "--seed", "3", "--truth", str(work / "truth"),
                    str(work / "org")],
                   check=True, capture_output=True)
    conf = work / "mount.conf"
    zones = "".join("[mailbox %s]\ntimezone=%s\n" % tuple(l.split("\t"))
                    for l in (work / "truth" / "mailboxes.tsv").read_text().splitlines())
    conf.write_text("[store]\npath=%s\n%s" % (work / "calfs.db", zones if a.zones else ""))
    run = lambda *args: subprocess.run([calfs, "-c", str(conf)] + list(args), check=True,
                                       capture_output=True)
    run("import", "--tree", str(work / "org"))
    log = work / "parses"
    env = dict(os.environ, LD_PRELOAD=str(shim), CALFS_PARSE_LOG=str(log))
    subprocess.run([calfs, "-c", str(conf), "mount", "-o", "logfile=%s" % (work / "log"),
                    str(work / "mnt")], check=True, env=env)
    try:
        count = lambda: log.stat().st_size if log.exists() else 0
        before, t0 = count(), time.monotonic()
        # listing renders (ls -l, find and glob ask for sizes)
        files = sorted(p for p in (work / "mnt").glob("*/Calendar/*.ics"))
        phases = {"list": ((count() - before) / len(files), len(files) / (time.monotonic() - t0))}

        def phase(name, fn):
            before, t0 = count(), time.monotonic()
            for f in files:
                fn(f)
            phases[name] = ((count() - before) / len(files), len(files) / (time.monotonic() - t0))

        copies = {}
        phase("read", lambda f: copies.__setitem__(f, f.read_bytes()))
        for f, data in copies.items():
            copies[f] = data.replace(b"\r\nSUMMARY:", b"\r\nSUMMARY:changed ", 1)
        src = work / "new.ics"

        def cp(f):
            src.write_bytes(copies[f])
            shutil.copyfile(src, f)
        phase("cp over it", cp)
        phase("read back", lambda f: f.read_bytes())
        print("%d items (%s)" % (len(files), calfs))
        for name, (parses, rate) in phases.items():
            print("%-12s %5.2f parses/item  %7.0f items/s" % (name, parses, rate))
    finally:
        subprocess.run(["fusermount3", "-u", str(work / "mnt")], check=True)


if __name__ == "__main__":
    main()
