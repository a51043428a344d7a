"""Publishes change lines (producers/change_line.h) as sharebus change events
with Confluent's Python producer and AvroSerializer, the way an outside
department's system could: key and envelope schemas registered by the
serializer (auto.register.schemas) under <topic>-key and <topic>-value,
envelope fields filled here (op, ts_ms, source, a uuid4 event_id), headers
sharebus.department and sharebus.event_id, a tombstone after each delete,
acks=all.  Prints {"events": N, "tombstones": T, "event_ids": [...]};
exits 1 if a line cannot be serialized or a delivery fails.

usage: produce_events.py BOOTSTRAP REGISTRY_URL TOPIC DEPARTMENT KEY_SCHEMA_FILE ENVELOPE_SCHEMA_FILE CHANGES_FILE
"""
import datetime
import json
import sys
import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def to_avro(schema, v):
    """JSON values of a change line -> what fastavro expects for `schema`
    (date -> datetime.date, timestamp-millis -> aware datetime)."""
    if v is None:
        return None
    if isinstance(schema, list):  # our unions are [null, T]
        return to_avro(next(s for s in schema if s != "null"), v)
    if not isinstance(schema, dict) or not isinstance(v, (str, dict)):
        return v
    if schema.get("logicalType") == "date":
        return datetime.date.fromisoformat(v)
    if schema.get("logicalType") == "timestamp-millis":
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if schema.get("type") == "record":
        return {f["name"]: to_avro(f["type"], v.get(f["name"])) for f in schema["fields"]}
    return v


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__.strip().splitlines()[-1])
    bootstrap, registry_url, topic, department, key_file, envelope_file, changes_file = sys.argv[1:]
    with open(key_file) as f:
        key_text = f.read()
    with open(envelope_file) as f:
        envelope_text = f.read()
    key_schema = json.loads(key_text)
    row_schema = next(f["type"][1] for f in json.loads(envelope_text)["fields"] if f["name"] == "before")

    registry = SchemaRegistryClient({"url": registry_url})
    key_ser = AvroSerializer(registry, key_text, conf={"auto.register.schemas": True})
    value_ser = AvroSerializer(registry, envelope_text, conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    failures = []

    def on_delivery(err, msg):
        if err is not None:
            failures.append("%s [%s]: %s" % (msg.topic(), msg.partition(), err))

    def produce(key, value, headers):
        ctx = SerializationContext(topic, MessageField.KEY, headers)
        k = key_ser(key, ctx)
        v = value_ser(value, SerializationContext(topic, MessageField.VALUE, headers))
        while True:
            try:
                producer.produce(topic, key=k, value=v, headers=headers, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)

    event_ids, tombstones = [], 0
    with open(changes_file) as f:
        for seq, line in enumerate(f, start=1):
            c = json.loads(line)
            event_id = str(uuid.uuid4())
            envelope = {
                "before": to_avro(row_schema, c.get("before")),
                "after": to_avro(row_schema, c.get("after")),
                "op": c["op"],
                "ts_ms": c.get("ts_ms", int(time.time() * 1000)),
                "source": {"department": department, "system": "confluent-kafka-python", "dataset": topic,
                           "seq": c.get("seq", seq)},
                "event_id": event_id,
            }
            headers = [("sharebus.department", department.encode()), ("sharebus.event_id", event_id.encode())]
            key = to_avro(key_schema, c["key"])
            produce(key, envelope, headers)
            if c["op"] == "d":
                produce(key, None, headers)
                tombstones += 1
            event_ids.append(event_id)
    left = producer.flush(60)
    if failures or left:
        sys.exit("produce_events: %d deliveries failed, %d undelivered; first: %s"
                 % (len(failures), left, failures[:1]))
    print(json.dumps({"events": len(event_ids), "tombstones": tombstones, "event_ids": event_ids}))


if __name__ == "__main__":
    main()
