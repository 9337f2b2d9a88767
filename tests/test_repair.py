"""Track-status repair through the mount, iMIP import from Maildir and mbox,
and outgoing messages, checked with Python's email module and vobject."""
import email
import email.policy
import mailbox
import os
import re
import subprocess
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email import encoders

import pytest
import vobject

from calfs_util import SHARED, ics

MB = "alice@example.com"
CRLF = "\r\n"

TRACK = ("X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE", "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE",
         "X-MICROSOFT-CDO-REPLYTIME", "X-MS-OLK-APPTSEQTIME")


def unfold(text):
    return re.sub(r"\r?\n[ \t]", "", text)


def broken_times(text):
    """The track-status values in text that rule T1 calls broken."""
    bad = []
    for line in unfold(text).splitlines():
        name = re.split(r"[;:]", line, 1)[0].upper()
        if name in TRACK:
            value = line.split(":", 1)[1] if ":" in line else ""
            if not re.fullmatch(r"(19\d\d|[2-9]\d\d\d)\d{4}T\d{6}Z?", value):
                bad.append(line)
        for m in re.finditer(r"X-REPLYTIME=([^;:]*)", line, re.IGNORECASE):
            if not re.fullmatch(r"(19\d\d|[2-9]\d\d\d)\d{4}T\d{6}Z?", m.group(1)):
                bad.append(line)
    return bad


def organizer_item(uid="m1", seq=2):
    return CRLF.join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 12.0//EN",
        "METHOD:PUBLISH", "BEGIN:VEVENT", "UID:" + uid, "SEQUENCE:%d" % seq,
        "DTSTAMP:20090901T000000Z", "LAST-MODIFIED:20090920T183000Z",
        "SUMMARY:Budget review", "DTSTART:20091001T100000Z", "DTEND:20091001T110000Z",
        "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z",
        "ORGANIZER;CN=Alice:mailto:alice@example.com",
        "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z:mailto:bob@e"
        "\r\n xample.net",
        "ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16010101T000000Z:mailto:c"
        "\r\n arol@example.net",
        "X-MS-OLK-FORCEINSPECTOROPEN:TRUE",
        "END:VEVENT", "END:VCALENDAR", ""]).encode()


def test_repaired_view_raw_view_and_xattr(calfs):
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    calfs.mount()
    view = calfs.path(MB, "Calendar", "m1.ics")
    raw = calfs.path(".raw", MB, "Calendar", "m1.ics")
    assert raw.read_bytes() == organizer_item()
    text = view.read_text()
    assert not broken_times(text)
    assert broken_times(raw.read_text())
    assert os.stat(view).st_size == len(view.read_bytes())
    # diff shows the repaired lines and nothing else
    r = subprocess.run(["diff", str(raw), str(view)], capture_output=True, text=True)
    changed = [l for l in r.stdout.splitlines() if l[:1] in "<>"]
    assert all("CRITICAL-CHANGE" in l or "ATTENDEE" in l or l[2:3] == " " for l in changed), changed
    assert "X-MS-OLK-FORCEINSPECTOROPEN:TRUE" in text
    fixes = os.getxattr(view, "user.calfs.fixes").decode().splitlines()
    assert ("X-REPLYTIME of mailto:bob@example.net: 1601-01-01 \u2192 2009-09-20T18:30:00Z "
            "(item LAST-MODIFIED, rule T4)") in fixes
    assert ("X-REPLYTIME of mailto:carol@example.net: 1601-01-01 \u2192 removed "
            "(no response, rule T4)") in fixes
    assert any("OWNER-CRITICAL-CHANGE: 1601-01-01 \u2192 2009-09-01T00:00:00Z (item DTSTAMP, rule T3)"
               in f for f in fixes)
    report = calfs.path(MB, ".calfs", "report").read_text()
    assert "track-status broken: 1" in report
    assert "track-status repairs T4: 2" in report
    assert "track-status repairs T3: 1" in report
    assert "track-status broken: 1" in calfs.path(".calfs", "status").read_text()
    calfs.umount()


def test_write_is_stored_repaired(calfs):
    calfs.import_items(MB, {"other.ics": ics("other")})
    calfs.mount()
    target = calfs.path(MB, "Calendar", "m1.ics")
    target.write_bytes(organizer_item())
    size = os.stat(target).st_size
    raw = calfs.path(".raw", MB, "Calendar", "m1.ics").read_text()
    assert not broken_times(raw)
    assert target.read_text() == raw
    # the kernel does not keep the size that was written: the item's is
    # the stored one (the attributes are cached for a minute)
    stored = calfs.path(".raw", MB, "Calendar", "m1.ics").read_bytes()
    assert len(stored) != len(organizer_item())
    assert os.stat(target).st_size == len(stored)
    assert size == len(stored)
    assert os.getxattr(target, "user.calfs.fixes") == b""
    calfs.umount()


def test_repair_off(calfs):
    calfs.set_conf("[policy]\nrepair_on_read=false\n"
                          "repair_on_write=false\n")
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    calfs.mount()
    assert calfs.path(MB, "Calendar", "m1.ics").read_bytes() == organizer_item()
    calfs.umount()


REAL = SHARED / "fixtures" / "real"


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
def test_real_fixtures_repaired_or_identical(calfs):
    r = calfs.run("import", MB, *sorted(REAL.glob("*.ics")), check=False)
    assert r.returncode == (0 if " 0 skipped" in r.stdout else 1), r.stdout + r.stderr
    calfs.mount()
    cal = calfs.path(MB, "Calendar")
    raw = calfs.path(".raw", MB, "Calendar")
    repaired = 0
    for n in sorted(os.listdir(cal)):
        text = (cal / n).read_text()
        assert not broken_times(text), n
        if os.getxattr(cal / n, "user.calfs.fixes"):
            repaired += 1
            assert (cal / n).read_bytes() != (raw / n).read_bytes()
        else:
            assert (cal / n).read_bytes() == (raw / n).read_bytes(), n
    assert repaired >= 1        # tmeher's X-REPLYTIME=16021023T001800Z
    # a file that is one item is stored byte for byte (what is served
    # also has its VTIMEZONE's TZID line as its parameters name it: L3)
    one = (REAL / "ical4j-2207678.ics").read_bytes()
    assert any((raw / n).read_bytes() == one for n in os.listdir(raw))
    calfs.umount()


# ---- iMIP import ----

def reply_ics(who, partstat, seq=2, dtstamp="20090925T100000Z", acc=None, uid="m1"):
    lines = ["BEGIN:VCALENDAR", "PRODID:Microsoft Exchange Server 2007", "VERSION:2.0",
             "METHOD:REPLY", "BEGIN:VEVENT", "UID:" + uid, "SEQUENCE:%d" % seq,
             "DTSTAMP:" + dtstamp, "SUMMARY;LANGUAGE=fr-FR:Accepté: Budget review",
             "ORGANIZER:mailto:alice@example.com",
             "ATTENDEE;PARTSTAT=%s:mailto:%s" % (partstat, who)]
    if acc:
        lines.append("X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:" + acc)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return CRLF.join(lines)


def calendar_message(sender, text, encoding="base64", charset="utf-8", nested=True,
                     method="REPLY"):
    """A message as Outlook sends it: mixed > alternative > text/calendar."""
    part = MIMEBase("text", "calendar", method=method, charset=charset)
    part.set_payload(text.encode(charset))
    if encoding == "base64":
        encoders.encode_base64(part)
    else:
        encoders.encode_quopri(part)
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("See the attached reply.", "plain", "utf-8"))
    alt.attach(part)
    msg = MIMEMultipart("mixed") if nested else alt
    if nested:
        msg.attach(alt)
    msg["From"] = "Somebody <%s>" % sender
    msg["To"] = "alice@example.com"
    msg["Subject"] = "Reply"
    return msg


def item_text(c):
    return unfold(c.path(".raw", MB, "Calendar", "m1.ics").read_text())


def test_maildir_replies(calfs, tmp_path):
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    md = mailbox.Maildir(str(tmp_path / "Maildir"))
    md.add(calendar_message("bob@example.net",
                            reply_ics("bob@example.net", "DECLINED", acc="20090926T120000Z")))
    md.add(calendar_message("carol@example.net",
                            reply_ics("carol@example.net", "TENTATIVE", dtstamp="20090927T080000Z"),
                            encoding="quoted-printable", charset="iso-8859-1", nested=False))
    # a reply to an older version of the meeting
    md.add(calendar_message("bob@example.net",
                            reply_ics("bob@example.net", "ACCEPTED", seq=1,
                                      dtstamp="20090930T000000Z")))
    md.add(email.message_from_string("From: x@example.com\nSubject: no calendar\n\nhello\n"))
    bad = calendar_message("bob@example.net", reply_ics("bob@example.net", "ACCEPTED")[:120])
    md.add(bad)
    (tmp_path / "Maildir" / "new" / "garbage").write_bytes(b"\x00\x01\x02 not mail")
    r = calfs.run("import", MB, tmp_path / "Maildir", check=False)
    assert r.returncode == 1        # two messages skipped
    assert "6 messages" in r.stdout, r.stdout
    assert "2 replies applied" in r.stdout and "1 stale ignored" in r.stdout, r.stdout
    assert "skipped" in r.stderr
    calfs.mount()
    text = item_text(calfs)
    assert "ATTENDEE;CN=Bob;PARTSTAT=DECLINED;X-REPLYTIME=20090926T120000Z:mailto:bob@example.net" in text
    assert "ATTENDEE;CN=Carol;PARTSTAT=TENTATIVE;X-REPLYTIME=20090927T080000Z:mailto:carol@example.net" in text
    assert not broken_times(calfs.path(MB, "Calendar", "m1.ics").read_text())
    calfs.umount()


def test_mbox_import_and_nothing_changes_for_broken_messages(calfs, tmp_path):
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    calfs.run("export", MB + "/Calendar", tmp_path / "before")
    box = mailbox.mbox(str(tmp_path / "inbox.mbox"))
    broken = calendar_message("bob@example.net", "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEV")
    box.add(broken)
    box.add(email.message_from_string("From: x@example.com\nContent-Type: multipart/mixed; "
                                      "boundary=zz\n\n--zz\nContent-Type: text/calendar\n"
                                      "Content-Transfer-Encoding: base64\n\n!!!notbase64\n"))
    box.flush()
    r = calfs.run("import", MB, tmp_path / "inbox.mbox", check=False)
    assert r.returncode == 1
    assert "2 messages" in r.stdout and "0 replies applied" in r.stdout, r.stdout
    assert "skipped" in r.stderr
    calfs.run("export", MB + "/Calendar", tmp_path / "after")
    assert (tmp_path / "before" / "m1.ics").read_bytes() == (tmp_path / "after" / "m1.ics").read_bytes()
    # now good ones, one after the other in the same mbox
    box.add(calendar_message("bob@example.net",
                             reply_ics("bob@example.net", "ACCEPTED", dtstamp="20090925T000000Z")))
    box.add(calendar_message("bob@example.net",
                             reply_ics("bob@example.net", "DECLINED", dtstamp="20090928T000000Z")))
    box.flush()
    r = calfs.run("import", MB, tmp_path / "inbox.mbox", check=False)
    assert r.returncode == 1        # the two broken ones are still there
    assert "4 messages" in r.stdout and "2 replies applied" in r.stdout, r.stdout
    calfs.run("export", MB + "/Calendar", tmp_path / "after2")
    text = unfold((tmp_path / "after2" / "m1.ics").read_text())
    assert "PARTSTAT=DECLINED;X-REPLYTIME=20090928T000000Z:mailto:bob@example.net" in text


def test_a_uid_mended_by_fix_is_the_one_replies_find(calfs, tmp_path):
    """Exchange 2003 folded a long UID with two spaces: libical reads a space
    the UID never had, and rule L1 takes it out.  After calfs fix, the
    store knows the item by the UID its bytes now have (as python-icalendar
    reads them), and an attendee's reply naming that UID is applied."""
    import icalendar
    uid = "040000008200E00074C5B7101A82E00800000000" + "0100000008BF7840"
    damaged = organizer_item(uid).replace(
        ("UID:" + uid).encode(), ("UID:" + uid[:36] + "\r\n  " + uid[36:]).encode())
    calfs.import_items(MB, {"m1.ics": damaged})
    calfs.run("fix")
    db = calfs.db()
    (stored_uid, data), = db.execute("select uid, data from items")
    db.close()
    assert str(icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["UID"]) == uid
    assert stored_uid == uid
    md = mailbox.Maildir(str(tmp_path / "md"))
    md.add(calendar_message("bob@example.net", reply_ics("bob@example.net", "DECLINED", uid=uid)))
    r = calfs.run("import", MB, tmp_path / "md")
    assert "1 replies applied" in r.stdout, r.stdout


def test_ics_file_reply_and_cancel(calfs, tmp_path):
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    (tmp_path / "reply.ics").write_text(reply_ics("bob@example.net", "TENTATIVE"), newline="")
    r = calfs.run("import", MB, tmp_path / "reply.ics")
    assert "1 replies applied" in r.stdout, r.stdout
    cancel = CRLF.join(["BEGIN:VCALENDAR", "METHOD:CANCEL", "BEGIN:VEVENT", "UID:m1",
                        "SEQUENCE:3", "DTSTAMP:20091001T000000Z", "END:VEVENT",
                        "END:VCALENDAR", ""])
    md = mailbox.Maildir(str(tmp_path / "md"))
    md.add(calendar_message("alice@example.com", cancel, method="CANCEL"))
    r = calfs.run("import", MB, tmp_path / "md")
    assert "1 cancelled" in r.stdout, r.stdout
    calfs.mount()
    assert "STATUS:CANCELLED" in calfs.path(MB, "Calendar", "m1.ics").read_text()
    calfs.umount()


def test_request_in_non_utf8_message(calfs, tmp_path):
    req = CRLF.join(["BEGIN:VCALENDAR", "METHOD:REQUEST", "VERSION:2.0", "BEGIN:VEVENT",
                     "UID:req-1", "SEQUENCE:0", "DTSTAMP:20090901T000000Z",
                     "DTSTART:20091001T100000Z", "SUMMARY:Réunion d'été",
                     "ORGANIZER:mailto:bob@example.net", "ATTENDEE:mailto:alice@example.com",
                     "END:VEVENT", "END:VCALENDAR", ""])
    md = mailbox.Maildir(str(tmp_path / "md"))
    md.add(calendar_message("bob@example.net", req, encoding="quoted-printable",
                            charset="iso-8859-1", method="REQUEST"))
    r = calfs.run("import", MB, tmp_path / "md")
    assert "1 created" in r.stdout, r.stdout
    calfs.mount()
    text = calfs.path(MB, "Calendar", "req-1.ics").read_text(encoding="utf-8")
    assert "SUMMARY:Réunion d'été" in text
    assert "METHOD" not in text
    calfs.umount()


# ---- outgoing messages ----

@pytest.mark.parametrize("cancel", [False, True])
def test_export_imip_message(calfs, tmp_path, cancel):
    calfs.import_items(MB, {"m1.ics": organizer_item()})
    args = ["export", "--imip"] + (["--cancel"] if cancel else []) + \
        [MB + "/Calendar/m1.ics", tmp_path / "out"]
    path = calfs.run(*args).stdout.strip()
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    assert msg["From"].addresses[0].addr_spec == "alice@example.com"
    assert {a.addr_spec for a in msg["To"].addresses} == {"bob@example.net", "carol@example.net"}
    assert msg["Date"] and msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in msg.iter_parts()]
    assert kinds == ["text/plain", "text/calendar"]
    cal_part = list(msg.iter_parts())[1]
    method = "CANCEL" if cancel else "REQUEST"
    assert cal_part.get_param("method") == method
    assert cal_part.get_content_charset() == "utf-8"
    text = cal_part.get_content()
    assert not broken_times(text)
    cal = vobject.readOne(text)
    assert cal.method.value == method
    assert cal.vevent.sequence.value == "3"
    assert cal.vevent.uid.value == "m1"
    if cancel:
        assert cal.vevent.status.value == "CANCELLED"
