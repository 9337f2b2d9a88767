"""What only a server store does: two daemons writing one item at once, a
database server that dies and comes back, and a mount over several shards.
(The whole mount suite also runs on PostgreSQL: see conftest.py.)"""
import errno
import mailbox
import os
import re
import shutil
import subprocess
import threading

import pytest

import calfs_util
import pg_util
from calfs_util import Calfs, ics, wait_for
from test_repair import broken_times, calendar_message, organizer_item, reply_ics

MB = "alice@example.com"


@pytest.fixture
def on_pg(pg_server):
    """Calfs objects made in the test use pg_server."""
    calfs_util.BACKEND = calfs_util.PgBackend(pg_server)
    return pg_server


@pytest.fixture
def daemons():
    """Calfs objects the test mounts; unmounted after it, whatever happens."""
    made = []
    yield made
    for c in made:
        c.cleanup()


def two_hosts(tmp_path, daemons, items):
    """Two mounts of one new store holding items in MB/Calendar, as two
    hosts would have; unmounted after the test."""
    a = Calfs(tmp_path)
    a.import_items(MB, items)
    (tmp_path / "b").mkdir()
    b = Calfs(tmp_path / "b", share=a.store)
    daemons += [a, b]
    a.mount()
    b.mount()
    return a, b


def test_two_daemons_write_one_item_1000_times(on_pg, tmp_path, daemons):
    """Both hosts write the same item 1,000 times at once: every write is
    stored and then replaced by the next, and the journal shows each one."""
    n = 1000
    a, b = two_hosts(tmp_path, daemons, {"shared.ics": ics("shared", "start")})
    written, failures = [], []

    def writer(c, tag):
        path = c.path(MB, "Calendar", "shared.ics")
        for i in range(n):
            data = ics("shared", "%s-%d" % (tag, i))
            try:
                with open(path, "wb") as f:
                    f.write(data)
                written.append(data)
            except OSError as e:
                failures.append((tag, i, e))

    threads = [threading.Thread(target=writer, args=(c, tag)) for c, tag in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    assert len(written) == 2 * n
    db = a.db()
    rows = db.execute("select j.op, j.old_data, j.old_version, j.new_version from journal j"
                      " where j.name = 'shared.ics' and j.op in ('create', 'update')"
                      " order by j.id")
    (data, version), = db.execute("select data, version from items where name = 'shared.ics'")
    db.close()
    # one journal entry per write after the import's create, versions in a row
    assert [r[0] for r in rows] == ["create"] + ["update"] * (2 * n)
    assert [r[3] for r in rows] == list(range(1, 2 * n + 2))
    assert version == 2 * n + 1
    # each write's bytes were what the next one replaced, or are the item now
    replaced = [r[1] for r in rows[2:]] + [data]
    assert sorted(replaced) == sorted(written)
    a.umount()
    b.umount()
    assert not a.warnings() and not b.warnings()


def test_server_dies_and_comes_back(tmp_path, daemons):
    """Killing the database server: each daemon says it lost the store,
    refuses writes with EIO meanwhile, reconnects when the server is back,
    catches up with what the other wrote, and none of them crashes."""
    why = pg_util.available()
    if why:
        pytest.skip(why)
    # its own: this test kills it; durable, as a real server is (with
    # synchronous_commit off, what was committed in the half second before
    # the kill was gone after it, the import included)
    server = pg_util.PgServer(durable=True)
    try:
        server.start()
        calfs_util.BACKEND = calfs_util.PgBackend(server)
        a, b = two_hosts(tmp_path, daemons, {"a.ics": ics("a", "Alpha")})
        here, there = a.path(MB, "Calendar"), b.path(MB, "Calendar")
        assert os.listdir(there) == ["a.ics"]

        server.kill()
        for c in (a, b):
            # (or, had its listener not connected yet, that it cannot)
            wait_for(lambda: re.search("change log: (connection lost|cannot LISTEN)",
                                       c.log_text()), 5, "the daemon to notice")
        with pytest.raises(OSError) as e:
            (here / "down.ics").write_bytes(ics("down"))
        assert e.value.errno == errno.EIO
        assert a.proc.poll() is None and b.proc.poll() is None

        server.start()

        def write_up():
            try:
                (here / "up.ics").write_bytes(ics("up", "after"))
                return True
            except OSError:
                return False
        wait_for(write_up, 10, "a write once the server is back")
        wait_for(lambda: (there / "up.ics").exists(), 3, "the other daemon to catch up")
        assert b"after" in (there / "up.ics").read_bytes()
        for c in (a, b):
            wait_for(lambda: "change log: reconnected" in c.log_text(), 5, "the reconnection")
            assert a.proc.poll() is None
        a.umount()
        b.umount()
        for c in (a, b):
            # the warnings and errors are about the store, one line each
            bad = c.warnings()
            assert any(re.search("change log: (connection lost|cannot LISTEN)", l)
                       for l in bad), bad
            assert all(l.startswith("calfs: ") and a.store.rsplit("/", 1)[1] in l
                       for l in bad), bad
    finally:
        server.cleanup()


def test_mount_spanning_two_shards(pg_server, tmp_path):
    """[store] on SQLite and a [shard] on PostgreSQL: one mount lists,
    reads and writes both, calfs fix and calfs tz cover both, and an item
    moved between shards is copied (EXDEV), as between two filesystems."""
    eu = pg_server.url(pg_server.createdb())
    c = Calfs(tmp_path, "[shard eu]\nurl=%s\nmailboxes=*@eu.example.com;eu-*\n" % eu)
    try:
        c.import_items(MB, {"m1.ics": organizer_item("m1")})
        c.import_items("bob@eu.example.com", {"m2.ics": organizer_item("m2")})
        sqlite_db = calfs_util.SqliteBackend().connect(c.store)
        eu_db = calfs_util.PgBackend(pg_server).connect(eu)
        assert sqlite_db.execute("select name from mailboxes") == [(MB,)]
        assert eu_db.execute("select name from mailboxes") == [("bob@eu.example.com",)]

        c.mount()
        assert sorted(os.listdir(c.mnt)) == [".Trash", ".calfs", ".raw", "alice@example.com",
                                             "bob@eu.example.com"]
        for mb, name in ((MB, "m1.ics"), ("bob@eu.example.com", "m2.ics")):
            text = c.path(mb, "Calendar", name).read_text()
            assert "Budget review" in text and not broken_times(text)
        c.path("bob@eu.example.com", "Calendar", "new.ics").write_bytes(ics("new"))
        os.mkdir(c.path("eu-rooms"))
        assert eu_db.execute("select name from mailboxes order by name") == \
            [("bob@eu.example.com",), ("eu-rooms",)]
        with pytest.raises(OSError) as e:
            os.rename(c.path("bob@eu.example.com", "Calendar", "new.ics"),
                      c.path(MB, "Calendar", "new.ics"))
        assert e.value.errno == errno.EXDEV
        shutil.move(c.path("bob@eu.example.com", "Calendar", "new.ics"),
                    c.path(MB, "Calendar", "new.ics"))
        assert sorted(os.listdir(c.path(MB, "Calendar"))) == ["m1.ics", "new.ics"]
        assert os.listdir(c.path("bob@eu.example.com", "Calendar")) == ["m2.ics"]
        c.umount()

        tz = c.run("tz").stdout
        assert MB in tz and "bob@eu.example.com" in tz
        r = c.run("fix")
        for db in (sqlite_db, eu_db):
            (n,), = db.execute("select count(*) from journal where op = 'update'")
            assert n == 1
            (data,), = db.execute("select data from items where name like 'm%'")
            assert not broken_times(data.decode())
        runs = c.run("journal").stdout
        assert runs.count("\tfix") == 2, runs       # one run in each shard
        # alice's m1 and new, bob's m2, in three mailboxes (eu-rooms too)
        assert "fix: 3 items in 3 mailboxes: 2 changed" in r.stderr, r.stderr
        # a reply applied in the PostgreSQL shard, where the item's ids are
        # the shard's own: the journal keeps the bytes it replaced
        (before,), = eu_db.execute("select data from items where name = 'm2.ics'")
        md = mailbox.Maildir(str(tmp_path / "Maildir"))
        md.add(calendar_message("carol@example.net",
                                reply_ics("carol@example.net", "TENTATIVE", uid="m2")))
        r = c.run("import", "bob@eu.example.com", tmp_path / "Maildir")
        assert "1 replies applied" in r.stdout, r.stdout
        (after,), = eu_db.execute("select data from items where name = 'm2.ics'")
        assert "PARTSTAT=TENTATIVE" in after.decode().replace("\r\n ", ""), after
        (old,), = eu_db.execute("select old_data from journal where op = 'update'"
                                " order by id desc limit 1")
        assert bytes(old) == bytes(before)
        sqlite_db.close()
        eu_db.close()
    finally:
        c.cleanup()
    assert not c.warnings()


def test_init_and_names_without_password(on_pg, tmp_path, daemons):
    """calfs init makes the schema (twice is harmless); the URL's password
    shows nowhere: not in init's output, the mount table or the log."""
    db = on_pg.createdb()
    url = on_pg.url(db).replace("calfs@", "calfs:s3cret@")
    c = Calfs(tmp_path, share=url)
    daemons.append(c)
    for _ in range(2):
        r = c.run("init")
        assert r.stdout == ("postgresql %s: 0 mailboxes, 0 items, 0 journal runs\n"
                            % url.replace("s3cret", "***"))
    conn = on_pg.connect(db)
    cur = conn.cursor()
    cur.execute("select value from meta where key = 'schema_version'")
    assert cur.fetchone() == (5,)
    conn.close()
    c.import_items(MB, {"a.ics": ics("a")})
    c.mount()
    with open("/proc/mounts") as f:
        line = [l for l in f if str(c.mnt) in l][0]
    assert "calfs:postgresql://calfs:***@" in line and "s3cret" not in line
    assert "s3cret" not in c.run("check", c.mnt, check=False).stdout
    c.umount()
    assert "s3cret" not in c.log_text()


def listening(c):
    """The listeners on the store's database that have read the log (a
    daemon's, once it followed the log; named in pg_stat_activity)."""
    db = c.db()
    (n,), = db.execute("select count(*) from pg_stat_activity where datname ="
                       " current_database() and application_name = 'calfs listener'"
                       " and state = 'idle' and query like 'SELECT coalesce(max(seq)%'")
    db.close()
    return n


def test_background_daemon_follows_other_writers(on_pg, tmp_path, daemons):
    """A daemon that went to the background (it forks, and threads do not
    survive a fork) still hears of changes made through another host."""
    c = Calfs(tmp_path)
    c.import_items(MB, {"a.ics": ics("a", "Alpha"), "b.ics": ics("b")})
    c.mnt.mkdir()
    c.run("mount", c.mnt)
    try:
        wait_for(lambda: os.path.ismount(c.mnt), 5, "the mount")
        (tmp_path / "other").mkdir()
        other = Calfs(tmp_path / "other", share=c.store)
        daemons.append(other)
        other.mount()
        item = c.path(MB, "Calendar", "b.ics")
        assert item.exists()                        # in the kernel's cache now
        # each daemon reads the log once, then listens: a change made
        # before that first read would be seen without a notification
        wait_for(lambda: listening(c) == 2, 5, "both daemons' listeners")
        os.unlink(other.path(MB, "Calendar", "b.ics"))
        wait_for(lambda: not item.exists(), 1.0, "the deletion")
        other.umount()
    finally:
        subprocess.run(["fusermount3", "-u", str(c.mnt)], check=True)


def test_the_change_log_keeps_names_as_written(on_pg, tmp_path, daemons):
    """A transaction's changes are logged in one statement, each column an
    array: a name with what an array literal quotes (double quotes, a
    backslash, a comma, braces, white space, the word NULL) is logged and heard as it
    was written, by the other host too."""
    names = ['say "hi".ics', "back\\slash.ics", "a,b {c}.ics", "NULL.ics", " sp .ics"]
    a, b = two_hosts(tmp_path, daemons, {"x.ics": ics("x")})
    listing = a.path(MB, "Calendar")
    assert sorted(os.listdir(listing)) == ["x.ics"]     # in a's kernel cache now
    for i, name in enumerate(names):
        b.path(MB, "Calendar", name).write_bytes(ics("u%d" % i))
    wait_for(lambda: sorted(os.listdir(listing)) == sorted(names + ["x.ics"]), 5,
             "the other host's names")
    db = a.db()
    logged = [r[0] for r in db.execute("select name from changes where item_id in"
                                       " (select id from items where name != 'x.ics')")]
    db.close()
    assert sorted(logged) == sorted(names)
    a.umount()
    b.umount()
    assert not a.warnings() and not b.warnings()


def test_the_change_log_notifies_its_last_seq_once_a_statement(on_pg, tmp_path):
    """The trigger on the change log tells the listeners (LISTEN
    calfs_changes) the newest seq each statement wrote: an import of more
    items than a batch holds notifies a few times, not once an item, and
    the last notification names the log's last change."""
    import psycopg2
    c = Calfs(tmp_path)
    conn = psycopg2.connect(c.store)
    conn.autocommit = True
    conn.cursor().execute("LISTEN calfs_changes")
    c.import_items(MB, {"n%03d.ics" % i: ics("n%03d" % i) for i in range(600)})
    heard = []

    def poll():
        conn.poll()
        heard.extend(int(n.payload) for n in conn.notifies)
        del conn.notifies[:]
        return heard and heard[-1] == last
    db = c.db()
    (last,), = db.execute("select max(seq) from changes")
    (changes,), = db.execute("select count(*) from changes")
    db.close()
    wait_for(poll, 5, "the notification of the last change")
    assert changes >= 600
    assert heard == sorted(heard) and 2 <= len(heard) <= 10, heard
    conn.close()


def test_an_import_stores_what_it_stores_on_sqlite(pg_server, tmp_path):
    """On PostgreSQL, an import's new items in a calendar it found empty are
    written without waiting for the server.  What it stores is what the
    same import stores on SQLite: over several batches, with UIDs that
    come back in the same batch and in a later one, an export whose parts
    are named as a file was, a name that is not UTF-8, and imported again
    into the calendars it made."""
    tree = tmp_path / "tree"
    cal = tree / MB / "Calendar"
    cal.mkdir(parents=True)
    for i in range(700):
        # 100-149 repeat UIDs of their batch, 600-699 of the first one
        uid = "u%d" % (i - 100 if 100 <= i < 150 else i - 600 if i >= 600 else i)
        (cal / ("%04d.ics" % i)).write_bytes(ics(uid, "item %d" % i))
    other = tree / MB / "Other"
    other.mkdir()
    (other / "x.ics").write_bytes(ics("x"))
    with open(bytes(other) + b"/caf\xe9.ics", "wb") as f:
        f.write(ics("not-utf8-name"))
    bob = tree / "bob@example.com"
    (bob / "Calendar").mkdir(parents=True)
    (bob / "Calendar" / "e1.ics").write_bytes(ics("not-e1"))
    (bob / "Calendar" / "b.ics").write_bytes(ics("u5"))
    (bob / "export.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" +
        b"".join(ics(u).split(b"PRODID:-//calfs//tests//EN\r\n", 1)[1]
                 .rsplit(b"END:VCALENDAR", 1)[0] for u in ("e1", "u5", "e2")) +
        b"END:VCALENDAR\r\n")
    stored = {}
    for name, backend in (("sqlite", calfs_util.SqliteBackend()),
                          ("postgresql", calfs_util.PgBackend(pg_server))):
        calfs_util.BACKEND = backend
        (tmp_path / name).mkdir()
        c = Calfs(tmp_path / name)
        outs = [c.run("import", "--tree", tree, check=False) for _ in range(2)]
        db = c.db()
        items = db.execute("select m.name, c.name, i.name, i.uid, i.data, i.version"
                           " from items i join calendars c on c.id = i.calendar_id"
                           " join mailboxes m on m.id = c.mailbox_id order by 1, 2, 3")
        journal = db.execute("select j.op, j.name, j.uid, j.new_version, j.note from journal j"
                             " order by j.name, j.new_version, j.op")
        changes = db.execute("select kind, name from changes order by name, kind")
        db.close()
        stored[name] = ([(o.returncode, o.stdout, o.stderr.replace(str(tmp_path / name), ""))
                         for o in outs], items, journal, changes)
    for k, what in enumerate(("the output", "the items", "the journal", "the change log")):
        assert stored["postgresql"][k] == stored["sqlite"][k], what
    # both write new items so: what an item at a time stored (calfs
    # before), a UID once a calendar
    outs, items = stored["sqlite"][:2]
    assert [o[1].split(": ")[-1].split(", ")[:3] for o in outs] == [
        ["556 created", "151 updated", "0 unchanged"], ["0 created", "252 updated", "455 unchanged"]]
    assert len(items) == len(set((i[0], i[1], i[3]) for i in items)) == 556


def test_fix_with_fewer_connections_than_workers(on_pg, tmp_path):
    """calfs fix opens a connection for each worker; when the server gives
    fewer, the workers share those it gave. The run is the same: every
    item as with all the connections it asked for, under one journal run."""
    src = tmp_path / "src"
    subprocess.run([str(calfs_util.GEN), "--mailboxes", "40", "--items", "3",
                    "--export-items", "2", "--broken", "0.3", "--seed", "7", str(src)],
                   check=True, capture_output=True)
    (tmp_path / "org").mkdir()
    org = Calfs(tmp_path / "org")
    for box in sorted(os.listdir(src)):
        org.run("import", box, src / box / "Calendar", src / box / "export.ics")

    def fixed(name, limit=None):
        (tmp_path / name).mkdir()
        c = Calfs(tmp_path / name, copy=org.store)
        if limit is not None:
            conn = on_pg.connect()
            conn.cursor().execute("ALTER DATABASE %s CONNECTION LIMIT %d"
                                  % (c.store.rsplit("/", 1)[1], limit))
            conn.close()
        changed = re.search(r" (\d+) changed", c.run("fix", "--jobs", "4").stderr)
        db = c.db()
        items = db.execute("SELECT id, name, data, version FROM items ORDER BY id")
        runs = db.execute("SELECT r.command, count(j.id) FROM runs r"
                          " LEFT JOIN journal j ON j.run_id = r.id"
                          " WHERE r.command LIKE 'fix%' GROUP BY r.id")
        db.close()
        return int(changed.group(1)), items, runs

    n, items, runs = fixed("all")
    assert n > 10 and runs == [("fix", n)]
    for limit in (2, 1):        # one peer, then none: the store's own connection
        assert fixed("limit%d" % limit, limit) == (n, items, runs)


def test_fix_reads_items_by_index_as_checks_fills(on_pg, tmp_path):
    """A store analyzed right after its import holds no verdicts, and the
    server then plans the item reads with a scan of the whole checks
    table; calfs fix writes a verdict an item and has the table analyzed
    as it fills, so that reads use its index once it is not small: a fix
    of n items does not read n * n / 2 rows of checks."""
    src = tmp_path / "src"
    subprocess.run([str(calfs_util.GEN), "--mailboxes", "200", "--items", "20",
                    "--export-items", "0", "--seed", "11", str(src)],
                   check=True, capture_output=True)
    (tmp_path / "org").mkdir()
    org = Calfs(tmp_path / "org")
    # replies to meetings of mailboxes left out of the export are skipped
    org.run("import", "--tree", src, check=False)
    conn = on_pg.connect(org.store.rsplit("/", 1)[1])
    conn.cursor().execute("ANALYZE")      # as autovacuum does after an import
    conn.close()
    (tmp_path / "fix").mkdir()
    c = Calfs(tmp_path / "fix", copy=org.store)
    c.run("fix", "--jobs", "1")
    db = c.db()
    n = db.execute("SELECT count(*) FROM items")[0][0]
    db.close()
    assert n >= 4000
    conn = on_pg.connect(c.store.rsplit("/", 1)[1])

    def scans():
        # the fix's backend reports its counts as it exits
        cur = conn.cursor()
        cur.execute("SELECT seq_scan + coalesce(idx_scan, 0), seq_tup_read"
                    " FROM pg_stat_user_tables WHERE relname = 'checks'")
        scanned, read = cur.fetchone()
        return read if scanned >= n else None

    read = wait_for(scans, 10, "the fix's scans of checks counted")
    conn.close()
    assert read < n * n / 4, "%d rows of checks read for %d items" % (read, n)


def test_reading_a_calendar_is_not_a_query_an_item(on_pg, tmp_path, daemons):
    """Every query to a server is a round trip: a reader opening each file
    of a calendar in turn (cat *, grep -r) has the daemon read the rows
    of their neighbours with the first, not one item's row per open, and
    the listing tells the kernel every file, so that no open looks one
    up.  A change anywhere drops the rows the daemon kept: here its own
    write after the listing."""
    n = 300
    c = Calfs(tmp_path)
    c.import_items(MB, {"e%03d.ics" % i: ics("e%03d" % i, "event %d" % i) for i in range(n)})
    c.import_items("bob@example.com", {"b.ics": ics("b")})
    conn = on_pg.connect(c.store.rsplit("/", 1)[1])
    cur = conn.cursor()

    def scans_when_alone():
        # a backend adds its counts to the table's before it leaves
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid != pg_backend_pid()")
        if cur.fetchone()[0]:
            return None
        cur.execute("SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
                    " WHERE relname = 'items'")
        return cur.fetchone()[0] + 1       # never 0, which wait_for takes for "not yet"

    before = wait_for(scans_when_alone, 10, "the import's backend gone")
    daemons.append(c)
    c.mount()
    # until the daemon hears of changes, it keeps no row it reads
    wait_for(lambda: listening(c) == 1, 5, "the daemon's listener")
    files = sorted(c.path(MB, "Calendar").iterdir())
    assert len(files) == n
    c.path("bob@example.com", "Calendar", "new.ics").write_bytes(ics("new"))
    for f in files:
        assert f.read_bytes().startswith(b"BEGIN:VCALENDAR")
    c.umount()
    assert not c.warnings()
    after = wait_for(scans_when_alone, 10, "the daemon's backends gone")
    conn.close()
    assert after - before < n / 4, "%d scans of items to read %d items" % (after - before, n)
