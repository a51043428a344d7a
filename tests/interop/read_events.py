"""Reads a topic from the beginning with Confluent's Python consumer and its
AvroDeserializer (schemas fetched from the registry by the id in each
record), until COUNT records (tombstones included) have arrived.

Prints one JSON line per record: {"partition", "offset", "key", "value",
"headers"}, in partition then offset order; value is null for a tombstone,
headers an object of UTF-8 strings; dates as "YYYY-MM-DD", timestamps as
"YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC).  Exits 1 if COUNT records did not arrive
within TIMEOUT_S seconds (default 60), if the topic holds more, or if one
could not be decoded.

usage: read_events.py BOOTSTRAP REGISTRY_URL TOPIC COUNT [TIMEOUT_S]
"""
import datetime
import json
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    """Avro values as fastavro returns them -> JSON-ready values."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, datetime.datetime):
        v = v.astimezone(datetime.timezone.utc)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (v.microsecond // 1000)
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.strip().splitlines()[-1])
    bootstrap, registry_url, topic, count = sys.argv[1:5]
    count, timeout_s = int(count), float(sys.argv[5]) if len(sys.argv) == 6 else 60.0
    registry = SchemaRegistryClient({"url": registry_url})
    key_de, value_de = AvroDeserializer(registry), AvroDeserializer(registry)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop-read-" + uuid.uuid4().hex,
                         "enable.auto.commit": False})
    meta = consumer.list_topics(topic, timeout=30).topics[topic]
    if meta.error is not None:
        sys.exit("read_events: topic %s: %s" % (topic, meta.error))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
    records, deadline = [], time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            sys.exit("read_events: %s" % m.error())
        headers = m.headers() or []
        key = key_de(m.key(), SerializationContext(topic, MessageField.KEY, headers))
        value = value_de(m.value(), SerializationContext(topic, MessageField.VALUE, headers))
        records.append({"partition": m.partition(), "offset": m.offset(), "key": plain(key),
                        "value": plain(value), "headers": {k: v.decode() for k, v in headers}})
    held = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions)
    consumer.close()
    if len(records) < count:
        sys.exit("read_events: %d of %d records of %s arrived in %gs" % (len(records), count, topic, timeout_s))
    if held != count:
        sys.exit("read_events: %s holds %d records, not %d" % (topic, held, count))
    for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        print(json.dumps(r))


if __name__ == "__main__":
    main()
