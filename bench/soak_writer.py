#!/usr/bin/env python3
"""make soak: the market department's application, at a steady pace.

  soak_writer.py DATABASE CHANGES.jsonl RATE SECONDS BAD_EVERY COUNTS

Writes RATE business changes a second for SECONDS into the table
business_license of DATABASE (whose triggers, from `sharebus-producer
--print-ddl sqlite --table business_license`, write the outbox rows in the
same transactions), in transactions of 1 to 20 changes on an absolute
schedule (a slow transaction does not slow the rate down).  The changes are
sharebus-sample's JSON lines (valid check characters), read again from the
start when the file is used up: a create or update is an upsert of the after
image, a delete deletes the key (a delete of a key not there writes no
outbox row).

Every BAD_EVERY changes one bad row goes in with them, in turn:
  rule      a licence whose check character is wrong, through the table (the
            trigger writes it; the producer refuses it, rule cn_uscc); its
            name starts with "Soak Reject", it stays in the department's table
  json      an outbox row whose after image is not JSON
  emptykey  an outbox row whose key is empty
  schema    an outbox row whose status is no symbol of the enum
  oversize  an outbox row of about 80 KB (over the soak's max_outbox_row_bytes)
Each is rejected by the producer (rejects.market) and marked sent.

COUNTS is rewritten after every transaction: "<changes> <bad> <transactions>"
(changes: the table changes made, bad: the bad rows among the outbox rows).
Standard library only.
"""
import datetime
import json
import os
import random
import sqlite3
import sys
import time

COLS = ["uscc", "name", "legal_representative", "registered_capital", "business_scope", "status",
        "established_on", "address", "updated_at"]
UPSERT = (f"INSERT INTO business_license ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))}) "
          "ON CONFLICT (uscc) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLS[1:]))
OUTBOX = 'INSERT INTO sharebus_outbox (dataset, op, "key", "before", "after") VALUES (?, ?, ?, ?, ?)'
KINDS = ["rule", "json", "emptykey", "schema", "oversize"]


def changes_forever(path):
    while True:
        n = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    n += 1
                    yield json.loads(line)
        if n == 0:
            sys.exit(f"soak_writer: {path} holds no changes")


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def bad_row(db, kind, n, template):
    row = dict(template, updated_at=now_text())
    if kind == "rule":
        # A typo in the licence number: the last (check) character changed.
        uscc = row["uscc"]
        row["uscc"] = uscc[:-1] + ("1" if uscc[-1] != "1" else "2")
        row["name"] = f"Soak Reject {n}"
        db.execute(UPSERT, [row[c] for c in COLS])
        return
    # Straight into the outbox, as an application that writes it itself:
    # updated_at in the JSON form of timestamp-millis, so that each row has
    # only its one fault.
    row["updated_at"] = int(time.time() * 1000)
    key = json.dumps({"uscc": row["uscc"]})
    if kind == "json":
        db.execute(OUTBOX, ("business_license", "u", key, None, '{"uscc": "' + row["uscc"] + '", broken'))
    elif kind == "emptykey":
        db.execute(OUTBOX, ("business_license", "u", "", None, json.dumps(row)))
    elif kind == "schema":
        db.execute(OUTBOX, ("business_license", "u", key, None, json.dumps(dict(row, status="BOGUS"))))
    else:
        db.execute(OUTBOX, ("business_license", "u", key, None, json.dumps(dict(row, business_scope="x" * 80000))))


def write_counts(path, changes, bad, txns):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{changes} {bad} {txns}\n")
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 7:
        sys.exit(__doc__)
    path, changes_file = argv[1], argv[2]
    rate, secs, bad_every, counts = float(argv[3]), float(argv[4]), int(argv[5]), argv[6]
    rnd = random.Random(11)
    source = changes_forever(changes_file)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    changes = bad = txns = 0
    template = None
    start = time.monotonic()
    while time.monotonic() - start < secs:
        # An absolute schedule: change number `changes` is due at start + changes / rate.
        delay = start + changes / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        db.execute("BEGIN IMMEDIATE")
        for _ in range(rnd.randint(1, 20)):
            ch = next(source)
            if ch["op"] == "d":
                db.execute("DELETE FROM business_license WHERE uscc = ?", (ch["key"]["uscc"],))
            else:
                row = dict(ch["after"], updated_at=now_text())
                template = row
                db.execute(UPSERT, [row[c] for c in COLS])
            changes += 1
            if bad_every > 0 and changes % bad_every == 0 and template is not None:
                bad_row(db, KINDS[bad % len(KINDS)], bad, template)
                bad += 1
        db.execute("COMMIT")
        txns += 1
        write_counts(counts, changes, bad, txns)
    db.close()
    print(f"soak_writer: {changes} changes and {bad} bad rows in {txns} transactions "
          f"over {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
