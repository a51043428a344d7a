"""SASL/SCRAM-SHA-512 logins to a --secure broker (broker-config/kafka-start.sh) with Confluent's
Python client, whose librdkafka (2.6.1 and later) makes a SCRAM proof Kafka 4.x accepts; Debian's
librdkafka 2.0.2, which the sharebus programs link, does not (README "Security").

Usage: scram_login.py BOOTSTRAP CA_FILE USER PASSWORD_FILE ALLOWED_TOPIC REFUSED_TOPIC

Prints one line per check, the outcome as librdkafka names it:
  allowed <topic> <NO_ERROR or error name>     a record produced to ALLOWED_TOPIC
  refused <topic> <NO_ERROR or error name>     a record produced to REFUSED_TOPIC
  wrong-password <NO_ERROR or error name>      a login with a wrong password
Exit 0 when the checks ran (their outcomes are for the caller to judge), 2 on bad usage.
"""
import sys

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient


def conf(bootstrap, ca, user, password):
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user,
        "sasl.password": password,
        "ssl.ca.location": ca,
        "message.timeout.ms": 20000,
    }


def produce_one(c, topic):
    """The delivery outcome of one record, as an error name."""
    outcome = []
    p = Producer(c)
    p.produce(topic, value=b"scram-login-check",
              on_delivery=lambda err, msg: outcome.append(err.name() if err else "NO_ERROR"))
    p.flush(30)
    return outcome[0] if outcome else "NO_DELIVERY_REPORT"


def login(c):
    """NO_ERROR when a metadata request answers, else the error's name."""
    errors = []
    admin = AdminClient(dict(c, error_cb=lambda err: errors.append(err.name())))
    try:
        admin.list_topics(timeout=10)
        return "NO_ERROR"
    except KafkaException as e:
        err = e.args[0]
        admin.poll(1)  # serves error_cb, which says why the connection failed
        names = [n for n in errors if n != KafkaError(KafkaError._TRANSPORT).name()]
        return names[0] if names else (err.name() if isinstance(err, KafkaError) else str(err))


def main(argv):
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, ca, user, password_file, allowed, refused = argv[1:]
    with open(password_file, encoding="ascii") as f:
        password = f.read().strip()
    c = conf(bootstrap, ca, user, password)
    print("allowed", allowed, produce_one(c, allowed), flush=True)
    print("refused", refused, produce_one(c, refused), flush=True)
    print("wrong-password", login(conf(bootstrap, ca, user, password + "x")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
