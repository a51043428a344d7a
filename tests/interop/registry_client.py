"""Confluent's Python SchemaRegistryClient against a sharebus-registry.

Registers SCHEMA1 under SUBJECT twice, each time with a new client so that
the second call reaches the server rather than the client's cache, then
SCHEMA2 (an evolution of SCHEMA1), and reads back: both schemas by id, the
subjects, the subject's versions, its latest version and version 1, and
the errors for an unknown id and an unknown version.  Then the calls of
compatibility and configuration: lookup, test_compatibility of a compatible
and of an incompatible schema (employee_count turned from int to string),
the subject's compatibility level set to FULL and read back, the global
level, and the refusal (HTTP 409) of the incompatible schema.  Prints one
JSON object with what came back.

usage: registry_client.py REGISTRY_URL SUBJECT SCHEMA1_FILE SCHEMA2_FILE
"""
import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError


def registered(r):
    return {"subject": r.subject, "version": r.version, "id": r.schema_id, "schema": r.schema.schema_str,
            "schema_type": r.schema.schema_type}


def error_of(call):
    try:
        call()
    except SchemaRegistryError as e:
        return {"http_status": e.http_status_code, "error_code": e.error_code, "message": e.error_message}
    return None


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    url, subject, file1, file2 = sys.argv[1:]
    schemas = []
    for path in (file1, file2):
        with open(path) as f:
            schemas.append(Schema(f.read(), "AVRO"))

    def client():  # a new client each time: no answer comes from a cache
        return SchemaRegistryClient({"url": url})

    first = client().register_schema(subject, schemas[0])
    again = client().register_schema(subject, schemas[0])
    second = client().register_schema(subject, schemas[1])
    breaking = json.loads(schemas[1].schema_str)
    for field in breaking["fields"]:
        if field["name"] == "employee_count":
            field["type"] = "string"
    incompatible = Schema(json.dumps(breaking), "AVRO")
    looked_up = registered(client().lookup_schema(subject, schemas[0]))
    compatible_ok = client().test_compatibility(subject, schemas[1])
    incompatible_ok = client().test_compatibility(subject, incompatible)
    refused = error_of(lambda: client().register_schema(subject, incompatible))
    set_level = client().set_compatibility(subject_name=subject, level="FULL")
    if isinstance(set_level, dict):  # the client hands back the server's body
        set_level = set_level.get("compatibility")
    got_level = client().get_compatibility(subject)
    global_level = client().get_compatibility()
    print(json.dumps({
        "lookup": looked_up,
        "compatible_ok": compatible_ok,
        "incompatible_ok": incompatible_ok,
        "incompatible_refused": refused,
        "set_level": set_level,
        "subject_level": got_level,
        "global_level": global_level,
        "first_id": first,
        "again_id": again,
        "second_id": second,
        "schema_by_first_id": client().get_schema(first).schema_str,
        "schema_by_second_id": client().get_schema(second).schema_str,
        "subjects": client().get_subjects(),
        "versions": client().get_versions(subject),
        "latest": registered(client().get_latest_version(subject)),
        "version1": registered(client().get_version(subject, 1)),
        "unknown_id": error_of(lambda: client().get_schema(999999)),
        "unknown_version": error_of(lambda: client().get_version(subject, 99)),
        "unknown_subject": error_of(lambda: client().get_versions(subject + ".nope")),
    }))


if __name__ == "__main__":
    main()
