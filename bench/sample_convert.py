#!/usr/bin/env python3
"""The benchmark's sample changes (sharebus-sample's JSON lines) in the form
of the producer's other sources, so that every source publishes the same
changes:

  sample_convert.py csv CHANGES.jsonl OUT.csv ROW_SCHEMA.avsc
      one CSV row per change: a header of the row schema's fields plus
      `op`, the `after` image as the row (a delete: its key fields only);
      CSV has no `before` image, so those events carry none
  sample_convert.py outbox CHANGES.jsonl DATABASE DATASET [TABLE]
      one outbox row per change, in line order: op, key, before and after
      as the lines' JSON, changed_at = ts_ms, into TABLE (sharebus_outbox)
      of DATABASE, which must already hold it (--print-ddl sqlite)
  sample_convert.py feed CHANGES.jsonl DATABASE DATASET RATE COUNT [SKIP]
      COUNT changes after the first SKIP (0) as outbox rows, written at RATE a second (a
      transaction every 10 ms) with changed_at = the moment each is
      written: a department's application at a steady pace

Standard library only (csv, json, sqlite3).
"""
import csv
import json
import sqlite3
import sys


def changes(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def cell(value):
    # The CSV source reads an empty unquoted cell as null, and a cell
    # holding JSON for record, array and map fields.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def to_csv(src, out, row_schema):
    with open(row_schema, encoding="utf-8") as f:
        fields = [field["name"] for field in json.load(f)["fields"]]
    if "op" in fields:
        sys.exit("sample_convert: the row schema has a field 'op': pick another op column")
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields + ["op"])
        for ch in changes(src):
            image = ch.get("after") if ch["op"] != "d" else ch["key"]
            image = image or {}
            w.writerow([cell(image.get(name)) for name in fields] + [ch["op"]])


def to_outbox(src, database, dataset, table):
    if not table.replace("_", "a").isalnum():
        sys.exit(f"sample_convert: '{table}' is not an SQL identifier")

    def text(v):
        return None if v is None else json.dumps(v, separators=(",", ":"))

    db = sqlite3.connect(database)
    with db:  # one transaction: the producer sees all rows or none
        db.executemany(
            f'INSERT INTO "{table}" (dataset, op, "key", "before", "after", changed_at) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((dataset, ch["op"], text(ch["key"]), text(ch.get("before")), text(ch.get("after")),
              ch["ts_ms"]) for ch in changes(src)))
    db.close()


def feed(src, database, dataset, rate, count, skip):
    import itertools
    import time

    def text(v):
        return None if v is None else json.dumps(v, separators=(",", ":"))

    todo = list(itertools.islice(changes(src), skip, skip + count))
    if len(todo) < count:
        sys.exit(f"sample_convert: {src} holds {len(todo)} changes, not {count}")
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 5000")
    per_tick = max(1, rate // 100)
    start = time.monotonic()
    for tick, at in enumerate(range(0, count, per_tick)):
        # An absolute schedule: a slow tick does not slow the rate down.
        delay = start + tick * per_tick / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now_ms = int(time.time() * 1000)
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            'INSERT INTO sharebus_outbox (dataset, op, "key", "before", "after", changed_at) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((dataset, ch["op"], text(ch["key"]), text(ch.get("before")), text(ch.get("after")), now_ms)
             for ch in todo[at:at + per_tick]))
        db.execute("COMMIT")
    db.close()


def main(argv):
    if len(argv) == 5 and argv[1] == "csv":
        to_csv(argv[2], argv[3], argv[4])
    elif len(argv) in (5, 6) and argv[1] == "outbox":
        to_outbox(argv[2], argv[3], argv[4], argv[5] if len(argv) == 6 else "sharebus_outbox")
    elif len(argv) in (7, 8) and argv[1] == "feed":
        feed(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), int(argv[7]) if len(argv) == 8 else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
