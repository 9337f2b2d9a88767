#!/usr/bin/python3
"""make bench: calfs measured against native files, the FUSE floor and a
peer, on a generated organisation.  Each measurement runs several times;
the table shows medians and spreads, the JSON file everything.

usage: tests/bench/run.py --build BUILD [--mailboxes N] [--million N]
                          [--repeat N] [--out FILE] [--work DIR]
                          [--only fix,exchange,read,conformance,scale,memory,peer,postgresql]
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "scripts" / "calfs-gen-org"
sys.path.insert(0, str(ROOT / "tests"))
import pg_util  # noqa: E402

TARGETS = {  # name: (measure, comparison, value)
    "fix items/s (bench org, to repair)": ("fix_repair_items_s", ">=", 20000),
    "fix items/s (Exchange mix)": ("exchange_fix_items_s", ">=", 9000),
    "fix items/s (clean)": ("fix_clean_items_s", ">=", 100000),
    "import vdir items/s": ("import_vdir_items_s", ">=", 20000),
    "import Maildir messages/s": ("import_maildir_messages_s", ">=", 10000),
    "warm cat of every item vs tmpfs": ("ratio_cat_warm_native", "<=", 1.5),
    "warm ls -lR vs tmpfs": ("ratio_ls_native", "<=", 2.0),
    "cold cat of every item vs FUSE floor": ("ratio_cat_floor", "<=", 1.0),
    "warm grep -rl vs FUSE floor": ("ratio_grep_warm_floor", "<=", 1.3),
    "read-all vs davfs2+Radicale (times faster)": ("ratio_peer", ">=", 10.0),
    "PostgreSQL import items/s": ("pg_import_vdir_items_s", ">=", 5000),
    "PostgreSQL fix items/s": ("pg_fix_repair_items_s", ">=", 4000),
    "PostgreSQL read-all vs SQLite": ("ratio_pg_read_all", "<=", 1.3),
    "daemon RSS serving 1M items (MiB)": ("rss_million_mib", "<=", 64),
    "root listing of 100,000 mailboxes (s)": ("list_100k_s", "<=", 1.0),
    "reader conformance problems (khal, vobject, ical.js, libical)":
        ("conformance_problems", "<=", 0),
}


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, **kw)


def timed(fn, repeat, before=None):
    """Median and spread (min, max) of fn's duration over repeat runs;
    before (not timed) runs ahead of each."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        t = time.monotonic()
        fn()
        times.append(time.monotonic() - t)
    return statistics.median(times), min(times), max(times)


def damon_pageout():
    """How long memory stays idle before DAMON pages it out on this machine
    (a virtual machine's host may run it), e.g. "60 s"; None when it does
    not."""
    base = Path("/sys/kernel/mm/damon/admin/kdamonds")
    for kd in base.glob("[0-9]*"):
        try:
            if (kd / "state").read_text().strip() != "on":
                continue
            for ctx in kd.glob("contexts/[0-9]*"):
                aggr = int((ctx / "monitoring_attrs/intervals/aggr_us").read_text())
                for scheme in ctx.glob("schemes/[0-9]*"):
                    if (scheme / "action").read_text().strip() == "pageout":
                        age = int((scheme / "access_pattern/age/min").read_text())
                        return "%g s" % (age * aggr / 1e6)
        except (OSError, ValueError):
            continue
    return None


def drop_caches():
    """Cold data, warm tools: what is measured is reading the files, not
    loading cat or grep from disk."""
    subprocess.run("sync; echo 3 > /proc/sys/vm/drop_caches; "
                   "cat /dev/null; ls / > /dev/null; grep -q x /dev/null; find /dev/null > /dev/null",
                   shell=True, check=False)


MOUNTED = {}    # mount point -> its daemon, until umount()


def wait_mounted(path, proc, timeout=30):
    deadline = time.monotonic() + timeout
    MOUNTED[str(path)] = proc
    while not os.path.ismount(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("bench: %s did not mount" % path)
        time.sleep(0.01)


def umount(path, proc):
    subprocess.run(["fusermount3", "-u", str(path)], check=False)
    proc.wait(timeout=60)
    MOUNTED.pop(str(path), None)


def umount_all():
    """Unmount what a phase that failed left mounted: a later run would
    read through its daemon, which holds a store that run makes again."""
    for path, proc in list(MOUNTED.items()):
        if proc.poll() is None:
            umount(path, proc)
        MOUNTED.pop(path, None)


def rss(pid):
    """(VmRSS, VmHWM) of pid in MiB."""
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                vals[line.split(":")[0]] = int(line.split()[1]) / 1024
    return vals.get("VmRSS", 0), vals.get("VmHWM", 0)


class Bench:
    def __init__(self, a):
        self.a = a
        self.calfs = str(Path(a.build).resolve() / "calfs")
        self.floorfs = str(Path(a.build).resolve() / "floorfs")
        self.work = Path(a.work)
        self.r = {"machine": {}, "measures": {}, "targets": {}}
        self.items = 0

    def conf(self, store):
        """A mount.conf for store whose iMIP updates go to the work
        directory's outbox (fresh_outbox())."""
        outbox = self.work / "outbox"
        if pg_util.is_url(str(store)):
            path = self.work / (str(store).rsplit("/", 1)[1] + ".conf")
            path.write_text("[store]\nurl=%s\noutbox=%s\n" % (store, outbox))
        else:
            path = self.work / (Path(store).name + ".conf")
            path.write_text("[store]\npath=%s\noutbox=%s\n" % (store, outbox))
        return str(path)

    def fresh_outbox(self):
        """Empty the outbox's Maildirs for a timed fix, as the mail system
        drains them: each run's iMIP updates went into the Maildirs of the
        runs before, which grew by hundreds of files a run (10,530 after
        some bench runs).  The directories stay: making them took a first
        fix half a second of mkdir on this machine's disk."""
        for f in (self.work / "outbox").glob("*/*/*"):
            f.unlink()

    def note(self, key, value, spread=None, unit=""):
        self.r["measures"][key] = {"value": value, "unit": unit}
        if spread:
            self.r["measures"][key]["spread"] = spread
        shown = ("%.3g" % value) if isinstance(value, float) else str(value)
        extra = " (%.3g-%.3g)" % spread if spread else ""
        print("  %-44s %12s %s%s" % (key, shown, unit, extra), flush=True)

    def machine(self):
        m = self.r["machine"]
        m["cpus"] = os.cpu_count()
        m["kernel"] = os.uname().release
        with open("/proc/meminfo") as f:
            m["memory_gib"] = round(int(f.readline().split()[1]) / 1048576, 1)
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
        m["date"] = time.strftime("%Y-%m-%d")
        m["mailboxes"] = self.a.mailboxes
        reclaim = damon_pageout()
        if reclaim:
            m["damon_pageout"] = reclaim
            print("  note: the kernel pages out memory idle %s (DAMON): files and"
                  " stores read in an earlier phase may be read from disk again"
                  % reclaim, flush=True)

    # ---- the organisation ----

    def generate(self):
        src = self.work / "org"
        stamp = self.work / "org.args"
        args = ["--mailboxes", str(self.a.mailboxes), "--items", "20", "--export-items", "5",
                "--broken", "0.2", "--truth", str(self.work / "org-truth")]
        if not src.exists() or not stamp.exists() or stamp.read_text() != " ".join(args):
            shutil.rmtree(src, ignore_errors=True)
            for tree in ("tree-vdir", "tree-maildir"):
                shutil.rmtree(self.work / tree, ignore_errors=True)
            subprocess.run([str(GEN)] + args + [str(src)], check=True, capture_output=True)
            stamp.write_text(" ".join(args))
        self.src = src
        self.boxes = sorted(os.listdir(src))

    def tree(self, name, children):
        """A tree for calfs import --tree: the generated mailboxes with
        only the named children (symbolic links)."""
        tree = self.work / name
        if not tree.exists():
            for box in self.boxes:
                (tree / box).mkdir(parents=True)
                for child in children:
                    (tree / box / child).symlink_to(self.src / box / child)
        return tree

    def import_org(self):
        """Each run imports the vdir tree into a new store, then the
        Maildirs into it; medians over the runs (the first one reads the
        files from disk, the others mostly from the page cache)."""
        store = self.work / "org.db"
        conf = self.conf(store)
        vdirs = self.tree("tree-vdir", ["Calendar", "export.ics"])
        maildirs = self.tree("tree-maildir", ["Maildir"])
        vdir_times, mail_times = [], []
        for _ in range(self.a.repeat):
            for suffix in ("", "-wal", "-shm"):
                Path(str(store) + suffix).unlink(missing_ok=True)
            t = time.monotonic()
            sh("%s -c %s import --tree %s" % (self.calfs, conf, vdirs))
            vdir_times.append(time.monotonic() - t)
            t = time.monotonic()
            out = sh("%s -c %s import --tree %s" % (self.calfs, conf, maildirs)).stdout
            mail_times.append(time.monotonic() - t)
        db = sqlite3.connect(str(store))
        self.items = db.execute("select count(*) from items").fetchone()[0]
        db.close()
        messages = int(out.split(" messages")[0].split(", ")[-1])
        self.note("import_vdir_items_s", self.items / statistics.median(vdir_times),
                  (self.items / max(vdir_times), self.items / min(vdir_times)), "items/s")
        self.note("import_maildir_messages_s", messages / statistics.median(mail_times),
                  (messages / max(mail_times), messages / min(mail_times)), "msgs/s")
        self.store = store

    def fix(self):
        runs = []
        for i in range(self.a.repeat):
            copy = self.work / ("fix-%d.db" % i)
            for suffix in ("-wal", "-shm"):            # a killed run's
                Path(str(copy) + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.store, copy)
            conf = self.conf(copy)
            self.fresh_outbox()
            t = time.monotonic()
            sh("%s -c %s fix" % (self.calfs, conf))
            runs.append(time.monotonic() - t)
        med = statistics.median(runs)
        self.note("fix_repair_items_s", self.items / med,
                  (self.items / max(runs), self.items / min(runs)), "items/s")
        self.note("fix_mailboxes_min", len(self.boxes) / med * 60, unit="mailboxes/min")
        conf = self.conf(self.work / "fix-0.db")
        med, lo, hi = timed(lambda: sh("%s -c %s fix" % (self.calfs, conf)), self.a.repeat)
        self.note("fix_clean_items_s", self.items / med, (self.items / hi, self.items / lo),
                  "items/s")
        self.fixed = self.work / "fix-0.db"

    # ---- the read path ----

    def fixed_store(self):
        """The fixed store of the fix phase, or of an earlier run's, or the
        store as imported."""
        if not hasattr(self, "fixed"):
            earlier = self.work / "fix-0.db"
            self.fixed = earlier if earlier.exists() else self.store
        return self.fixed

    def read_path(self):
        self.fixed_store()
        mnt = self.work / "mnt"
        floor_mnt = self.work / "mnt-floor"
        native = Path("/dev/shm/calfs-bench-native")
        for d in (mnt, floor_mnt):
            d.mkdir(exist_ok=True)
        calfs = subprocess.Popen([self.calfs, "-c", self.conf(self.fixed), "mount", "-f",
                                  str(mnt)], stderr=subprocess.DEVNULL)
        wait_mounted(mnt, calfs)
        rest = rss(calfs.pid)[0]
        shutil.rmtree(native, ignore_errors=True)
        native.mkdir()
        for box in self.boxes:
            shutil.copytree(mnt / box, native / box, ignore=shutil.ignore_patterns(".*"))
        floor = subprocess.Popen([self.floorfs, str(native), str(floor_mnt), "-f"],
                                 stderr=subprocess.DEVNULL)
        wait_mounted(floor_mnt, floor)
        ref = self.work / "ref"
        ref.touch()
        os.utime(ref, (time.time() - 86400 * 365 * 30,) * 2)
        ops = {
            # printf is built in: no argument list too long for cat
            "cat": "printf '%%s\\0' %s/*/*/*.ics | xargs -0 cat > /dev/null",
            "ls": "ls -lR %s/*/ > /dev/null",
            "grep": "grep -rl 'SUMMARY:Budget' %s/*/ > /dev/null",
            "find": "find %s/*/ -newer " + str(ref) + " -name '*.ics' > /dev/null",
        }
        res, turns = {}, {}
        self.read_ops = ops
        roots = (("native", native), ("floor", floor_mnt), ("calfs", mnt))
        # in turns (native, floor, calfs, again): the machine's pace drifts
        # over minutes, and a ratio of runs minutes apart measured the
        # drift (the floor's warm grep took 0.72 s in one run, 1.23 s in
        # another)
        for op, cmd in ops.items():
            for cache in ("cold", "warm"):
                if cache == "warm":
                    for _, root in roots:
                        sh(cmd % root)
                for _ in range(self.a.repeat):
                    for name, root in roots:
                        if cache == "cold":
                            drop_caches()
                        t = time.monotonic()
                        sh(cmd % root)
                        turns.setdefault((name, op, cache), []).append(time.monotonic() - t)
                for name, _ in roots:
                    times = turns[(name, op, cache)]
                    res[(name, op, cache)] = statistics.median(times)
                    self.note("%s_%s_%s_s" % (op, cache, name), res[(name, op, cache)],
                              (min(times), max(times)), "s")

        def ratio(a, b):
            """The median of the turns' ratios of a to b."""
            return statistics.median(x / y for x, y in zip(turns[a], turns[b]))

        self.note("rss_rest_mib", rest, unit="MiB")
        self.note("rss_peak_org_mib", rss(calfs.pid)[1], unit="MiB")
        self.note("ratio_cat_floor", ratio(("calfs", "cat", "cold"), ("floor", "cat", "cold")))
        self.note("ratio_cat_native", ratio(("calfs", "cat", "cold"), ("native", "cat", "cold")))
        self.note("ratio_ls_native", ratio(("calfs", "ls", "warm"), ("native", "ls", "warm")))
        self.note("ratio_cat_warm_native",
                  ratio(("calfs", "cat", "warm"), ("native", "cat", "warm")))
        self.note("ratio_grep_warm_floor",
                  ratio(("calfs", "grep", "warm"), ("floor", "grep", "warm")))
        umount(floor_mnt, floor)
        self.floor_without_open(native, floor_mnt, ops["cat"], res)
        # what of grep is the reports of .calfs/, which the floor has not
        items_only = "grep -rl --exclude-dir=.calfs 'SUMMARY:Budget' %s/*/ > /dev/null" % mnt
        sh(items_only)
        med, lo, hi = timed(lambda: sh(items_only), self.a.repeat)
        self.note("grep_warm_calfs_items_only_s", med, (lo, hi), "s")
        self.note("ratio_grep_warm_items_only_floor", med / res[("floor", "grep", "warm")])
        umount(mnt, calfs)
        self.native = native
        self.read_cold = res

    def floor_without_open(self, native, floor_mnt, cat, res):
        """What a warm cat costs when the kernel never asks the file system:
        the floor answering open with ENOSYS (FUSE_CAP_NO_OPEN_SUPPORT), so
        that it keeps no per-open state, against the floor as it is, which
        is asked for every open (as calfs must be: its writes are judged
        per open, and the switch is one for the whole mount).  Its names
        and attributes are kept 10 s, as calfs's are."""
        floor = subprocess.Popen([self.floorfs, str(native), str(floor_mnt), "-f",
                                  "-o", "entry_timeout=10,attr_timeout=10"],
                                 stderr=subprocess.DEVNULL,
                                 env=dict(os.environ, FLOORFS_NO_OPEN="1"))
        wait_mounted(floor_mnt, floor)
        sh(cat % floor_mnt)
        med, lo, hi = timed(lambda: sh(cat % floor_mnt), self.a.repeat)
        self.note("cat_warm_floor_no_open_s", med, (lo, hi), "s")
        self.note("ratio_cat_warm_floor_native",
                  res[("floor", "cat", "warm")] / res[("native", "cat", "warm")])
        self.note("ratio_cat_warm_floor_no_open_native", med / res[("native", "cat", "warm")])
        umount(floor_mnt, floor)

    # ---- what the readers see ----

    def conformance(self):
        """Every item of the fixed organisation read by khal, vobject,
        ical.js and libical against zoneinfo (tests/conformance)."""
        sys.path.insert(0, str(ROOT / "tests" / "conformance"))
        import harness
        self.fixed_store()
        mnt = self.work / "mnt"
        mnt.mkdir(exist_ok=True)
        calfs = subprocess.Popen([self.calfs, "-c", self.conf(self.fixed), "mount", "-f",
                                  str(mnt)], stderr=subprocess.DEVNULL)
        wait_mounted(mnt, calfs)
        truth = self.work / "org-truth"
        t = time.monotonic()
        n, problems = harness.check([str(mnt / b) for b in self.boxes],
                                    harness.read_map(truth / "zones.tsv"), {},
                                    build=self.a.build)
        self.note("conformance_items", n, unit="items")
        self.note("conformance_s", time.monotonic() - t, unit="s")
        self.note("conformance_problems", len(problems))
        for p in problems[:20]:
            print("  conformance: " + p)
        umount(mnt, calfs)

    # ---- items as Exchange wrote them ----

    def exchange(self):
        """The Exchange mix: the items of tests/conformance/rulechange.py
        (meetings with VTIMEZONEs of the old rules, UTC items converted
        with them, items written after each change, all-day items, zones
        without DST) copied into EXCHANGE_COPIES x 9 mailboxes with
        EXCHANGE_ITEMS copies of each item, each mailbox's zone in
        mount.conf; imported, then fixed (medians)."""
        src = self.work / "exchange"
        made = self.work / "exchange-made"
        if not made.exists():
            shutil.rmtree(src, ignore_errors=True)
            gen = self.work / "rulechange"
            shutil.rmtree(gen, ignore_errors=True)
            subprocess.run([sys.executable, str(ROOT / "tests" / "conformance" / "rulechange.py"),
                            str(gen)], check=True, capture_output=True)
            for box in sorted(os.listdir(gen / "src")):
                for k in range(EXCHANGE_COPIES):
                    out = src / ("x%d-%s" % (k, box))
                    out.mkdir(parents=True)
                    for item in sorted(os.listdir(gen / "src" / box)):
                        text = (gen / "src" / box / item).read_bytes()
                        for j in range(EXCHANGE_ITEMS):
                            copy = text.replace(b"\r\nUID:", b"\r\nUID:x%d-%d-" % (k, j))
                            (out / ("%d-%s" % (j, item))).write_bytes(copy)
            zones = (gen / "truth" / "mailboxes.tsv").read_text().splitlines()
            conf = "".join("[mailbox x%d-%s]\ntimezone=%s\n" % ((k,) + tuple(l.split("\t")))
                           for l in zones for k in range(EXCHANGE_COPIES))
            (self.work / "exchange-zones").write_text(conf)
            made.touch()
        zones = (self.work / "exchange-zones").read_text()
        store = self.work / "exchange.db"
        conf = Path(self.conf(store))
        conf.write_text(conf.read_text() + zones)
        for suffix in ("", "-wal", "-shm"):
            Path(str(store) + suffix).unlink(missing_ok=True)
        t = time.monotonic()
        sh("%s -c %s import --tree %s" % (self.calfs, conf, src))
        self.note("exchange_import_s", time.monotonic() - t, unit="s")
        db = sqlite3.connect(str(store))
        items = db.execute("select count(*) from items").fetchone()[0]
        db.close()
        self.note("exchange_items", items, unit="items")
        runs = []
        for i in range(self.a.repeat):
            copy = self.work / ("exchange-fix-%d.db" % i)
            for suffix in ("-wal", "-shm"):
                Path(str(copy) + suffix).unlink(missing_ok=True)
            shutil.copyfile(store, copy)
            cconf = Path(self.conf(copy))
            cconf.write_text(cconf.read_text() + zones)
            self.fresh_outbox()
            t = time.monotonic()
            out = sh("%s -c %s fix" % (self.calfs, cconf)).stderr
            runs.append(time.monotonic() - t)
        med = statistics.median(runs)
        changed = int(out.split(" changed")[0].rsplit(" ", 1)[1])
        self.note("exchange_changed_share", changed / items)
        self.note("exchange_fix_items_s", items / med,
                  (items / max(runs), items / min(runs)), "items/s")

    # ---- the same on PostgreSQL ----

    def postgresql(self):
        """Import, fix and read-all with the store on a local PostgreSQL
        server (a throwaway one, on a Unix socket, durability on as a real
        server's would be), beside the SQLite figures."""
        why = pg_util.available()
        if why:
            print("  postgresql: skipped: %s" % why, flush=True)
            return
        server = pg_util.PgServer(durable=True)
        try:
            server.start()
            vdirs = self.tree("tree-vdir", ["Calendar", "export.ics"])
            times = []
            for i in range(self.a.repeat):
                url = server.url(server.createdb())
                t = time.monotonic()
                sh("%s -c %s import --tree %s" % (self.calfs, self.conf(url), vdirs))
                times.append(time.monotonic() - t)
            self.note("pg_import_vdir_items_s", self.items / statistics.median(times),
                      (self.items / max(times), self.items / min(times)), "items/s")
            imported = url.rsplit("/", 1)[1]
            runs = []
            for i in range(self.a.repeat):
                copy = server.url(server.createdb(template=imported))
                conf = self.conf(copy)
                self.fresh_outbox()
                t = time.monotonic()
                sh("%s -c %s fix" % (self.calfs, conf))
                runs.append(time.monotonic() - t)
            med = statistics.median(runs)
            self.note("pg_fix_repair_items_s", self.items / med,
                      (self.items / max(runs), self.items / min(runs)), "items/s")
            med, lo, hi = timed(lambda: sh("%s -c %s fix" % (self.calfs, self.conf(copy))),
                                self.a.repeat)
            self.note("pg_fix_clean_items_s", self.items / med,
                      (self.items / hi, self.items / lo), "items/s")
            mnt = self.work / "mnt-pg"
            mnt.mkdir(exist_ok=True)
            calfs = subprocess.Popen([self.calfs, "-c", self.conf(copy), "mount", "-f",
                                      str(mnt)], stderr=subprocess.DEVNULL)
            wait_mounted(mnt, calfs)
            try:
                cat = "printf '%%s\\0' %s/*/*/*.ics | xargs -0 cat > /dev/null" % mnt
                med, lo, hi = timed(lambda: sh(cat), self.a.repeat, drop_caches)
                self.note("pg_cat_cold_calfs_s", med, (lo, hi), "s")
                self.note("pg_read_all_items_s", self.items / med,
                          (self.items / hi, self.items / lo), "items/s")
            finally:
                umount(mnt, calfs)
            m = self.r["measures"]
            if "cat_cold_calfs_s" in m:
                self.note("ratio_pg_read_all", m["pg_cat_cold_calfs_s"]["value"] /
                          m["cat_cold_calfs_s"]["value"])
            print("\n  %-28s %14s %14s" % ("", "SQLite", "PostgreSQL"))
            for label, sq, pg in (("import items/s", "import_vdir_items_s", "pg_import_vdir_items_s"),
                                  ("fix items/s (to repair)", "fix_repair_items_s",
                                   "pg_fix_repair_items_s"),
                                  ("fix items/s (clean)", "fix_clean_items_s",
                                   "pg_fix_clean_items_s"),
                                  ("read-all cold (s)", "cat_cold_calfs_s", "pg_cat_cold_calfs_s")):
                print("  %-28s %14s %14s" % (label, "%.3g" % m[sq]["value"] if sq in m else "-",
                                             "%.3g" % m[pg]["value"]), flush=True)
            print()
        finally:
            server.cleanup()

    # ---- memory and scale, on synthetic stores ----

    def mount_synthetic(self, store, name):
        """Mount a synthetic store at work/mnt-NAME: (mount point, daemon)."""
        mnt = self.work / ("mnt-" + name)
        mnt.mkdir(exist_ok=True)
        p = subprocess.Popen([self.calfs, "--store", str(store), "mount", "-f", str(mnt)],
                             stderr=subprocess.DEVNULL)
        wait_mounted(mnt, p)
        return mnt, p

    def synthetic(self, name, mailboxes, per_calendar):
        """A store of mailboxes x per_calendar tiny items, made with SQL."""
        store = self.work / ("%s.db" % name)
        if store.exists():
            return store
        one = self.work / "one.ics"
        one.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:seed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        sh("%s --store %s import seed@example.com %s" % (self.calfs, store, one))
        db = sqlite3.connect(str(store))
        now = time.time_ns()
        db.executemany("insert into mailboxes(name, mtime_ns) values(?, ?)",
                       (("mb%06d@example.com" % i, now) for i in range(mailboxes)))
        db.execute("insert into calendars(mailbox_id, name, mtime_ns)"
                   " select id, 'Calendar', mtime_ns from mailboxes where name like 'mb%'")
        if per_calendar:
            cals = [r[0] for r in db.execute("select id from calendars where name = 'Calendar'"
                                             " and mailbox_id in (select id from mailboxes"
                                             " where name like 'mb%')")]

            def rows():
                for c in cals:
                    for i in range(per_calendar):
                        uid = "i%d-%d" % (c, i)
                        data = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
                                "DTSTAMP:20200101T000000Z\r\nDTSTART:20200101T100000Z\r\n"
                                "SUMMARY:item %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % (uid, i))
                        yield (c, uid + ".ics", uid, data.encode(), now)
            db.executemany("insert into items(calendar_id, name, uid, data, version, mtime_ns)"
                           " values(?, ?, ?, ?, 1, ?)", rows())
        db.commit()
        db.close()
        return store

    def memory(self):
        n = self.a.million
        store = self.synthetic("million", max(1, n // 1000), 1000 if n >= 1000 else n)
        mnt, p = self.mount_synthetic(store, "million")
        t = time.monotonic()
        sh("find %s/ -maxdepth 3 -name '*.ics' -type f | xargs cat | wc -c" % mnt)
        self.note("serve_million_s", time.monotonic() - t, unit="s")
        self.note("million_items", n, unit="items")
        self.note("rss_million_mib", rss(p.pid)[1], unit="MiB")
        umount(mnt, p)

    def scale(self):
        store = self.synthetic("wide", 100000, 0)
        mnt, p = self.mount_synthetic(store, "wide")
        med, lo, hi = timed(lambda: sh("ls %s | wc -l" % mnt), self.a.repeat)
        self.note("list_100k_s", med, (lo, hi), "s")
        umount(mnt, p)
        store = self.synthetic("deep", 1, 100000)
        mnt, p = self.mount_synthetic(store, "deep")
        db = sqlite3.connect(str(store))
        name = db.execute("select name from items where name like 'i%' limit 1 offset 50000").fetchone()[0]
        db.close()
        path = "%s/mb000000@example.com/Calendar/%s" % (mnt, name)
        med, lo, hi = timed(lambda: sh("cat '%s' > /dev/null" % path), self.a.repeat,
                            drop_caches)
        self.note("open_in_100k_calendar_s", med, (lo, hi), "s")
        umount(mnt, p)

    # ---- the peer: davfs2 mounting Radicale ----

    def peer(self):
        """The first PEER_BOXES mailboxes' calendars read whole (cold:
        the page cache dropped, davfs2's own cache empty) through davfs2
        from Radicale and through calfs."""
        if not shutil.which("radicale") or not shutil.which("mount.davfs"):
            print("  peer: radicale or davfs2 missing: not measured", flush=True)
            return
        boxes = self.boxes[:PEER_BOXES]
        coll_root = self.work / "radicale"
        shutil.rmtree(coll_root, ignore_errors=True)
        store = self.fixed_store()
        items = 0
        for box in boxes:
            coll = coll_root / "collection-root" / "bench" / box
            coll.mkdir(parents=True)
            sh("%s -c %s export %s/Calendar %s" % (self.calfs, self.conf(store), box, coll))
            for f in coll.iterdir():            # vdir metadata is no item to Radicale
                if f.is_file() and f.suffix != ".ics" and not f.name.startswith("."):
                    f.unlink()
            items += len(list(coll.glob("*.ics")))
            (coll / ".Radicale.props").write_text('{"tag": "VCALENDAR"}')
        cfg = self.work / "radicale.conf"
        cfg.write_text("[server]\nhosts = 127.0.0.1:%d\n[auth]\ntype = none\n"
                       "[storage]\nfilesystem_folder = %s\n[logging]\nlevel = warning\n"
                       % (PEER_PORT, coll_root))
        server = subprocess.Popen(["radicale", "--config", str(cfg)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dav = self.work / "mnt-dav"
        dav.mkdir(exist_ok=True)
        davconf = self.work / "davfs2.conf"
        # davfs2 keeps the files it read on disk, across mounts (by default
        # in /var/cache/davfs2): a cold read starts with an empty one
        davcache = self.work / "davfs2-cache"
        # buf_size 64: davfs2 before 1.7.2 reads directories with a buffer
        # kernels from 6.16 refuse (EINVAL on getdents; davfs2 issue #22)
        davconf.write_text("ask_auth 0\nuse_locks 0\nbuf_size 64\ncache_dir %s\n" % davcache)
        url = "http://127.0.0.1:%d/bench/" % PEER_PORT

        def dav_cold():
            subprocess.run(["umount", str(dav)], capture_output=True)
            shutil.rmtree(davcache, ignore_errors=True)
            davcache.mkdir()
            # as /var/cache/davfs2 is: mount.davfs runs as davfs2
            shutil.chown(davcache, group="davfs2")
            davcache.chmod(0o775)
            sh("mount -t davfs %s %s -o conf=%s </dev/null" % (url, dav, davconf))
            drop_caches()

        try:
            for _ in range(100):
                if subprocess.run(["curl", "-s", "-o", "/dev/null", url]).returncode == 0:
                    break
                time.sleep(0.05)
            med, lo, hi = timed(lambda: sh("cat %s/*/*.ics > /dev/null" % dav), self.a.repeat,
                                dav_cold)
            self.note("peer_cat_s", med, (lo, hi), unit="s (%d items)" % items)
            mnt = self.work / "mnt"
            mnt.mkdir(exist_ok=True)
            calfs = subprocess.Popen([self.calfs, "-c", self.conf(store), "mount", "-f",
                                      str(mnt)], stderr=subprocess.DEVNULL)
            wait_mounted(mnt, calfs)
            cmd = "cat %s > /dev/null" % " ".join("%s/%s/Calendar/*.ics" % (mnt, b) for b in boxes)
            med2, lo, hi = timed(lambda: sh(cmd), self.a.repeat, drop_caches)
            umount(mnt, calfs)
            self.note("peer_calfs_cat_s", med2, (lo, hi), unit="s")
            self.note("ratio_peer", med / med2)
        except subprocess.CalledProcessError as e:
            print("  peer: %s" % (e.stderr or e).strip()[:200], flush=True)
        finally:
            subprocess.run(["umount", str(dav)], capture_output=True)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    def verdicts(self):
        print("\ntargets:")
        for name, (key, cmp, value) in TARGETS.items():
            m = self.r["measures"].get(key)
            if not m:
                met = None
            else:
                met = m["value"] >= value if cmp == ">=" else m["value"] <= value
            self.r["targets"][name] = {"measure": key, "target": "%s %s" % (cmp, value),
                                       "value": m["value"] if m else None, "met": met}
            print("  %-44s %-10s %s" % (name, "%s %s" % (cmp, value),
                                        {True: "met", False: "MISSED", None: "not measured"}[met]))


PEER_BOXES = 40
PEER_PORT = 5233

EXCHANGE_COPIES = 10
EXCHANGE_ITEMS = 12

PHASES = {"fix": "fix", "exchange": "exchange", "read": "read_path", "conformance": "conformance", "scale": "scale", "memory": "memory",
          "peer": "peer", "postgresql": "postgresql"}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", required=True)
    p.add_argument("--mailboxes", type=int, default=2000)
    p.add_argument("--million", type=int, default=1000000,
                   help="items of the memory measurement")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", default="bench-results.json")
    p.add_argument("--work", default="/var/tmp/calfs-bench")
    p.add_argument("--only", default=",".join(PHASES),
                   help="the phases to run, of %s (the import always runs)"
                   % ",".join(PHASES))
    a = p.parse_args()
    only = a.only.split(",")
    if not set(only) <= set(PHASES):
        p.error("--only: unknown phase in %r" % a.only)
    Path(a.work).mkdir(parents=True, exist_ok=True)
    b = Bench(a)
    b.machine()
    print("calfs bench: %d mailboxes, %s" % (a.mailboxes, b.r["machine"].get("cpu", "")), flush=True)
    b.generate()
    b.import_org()
    try:
        for phase in PHASES:
            if phase in only:
                getattr(b, PHASES[phase])()
    finally:
        umount_all()
    b.verdicts()
    with open(a.out, "w") as f:
        json.dump(b.r, f, indent=2)
    print("\n" + json.dumps(b.r, indent=2))
    print("results: %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
