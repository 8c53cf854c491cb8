#!/usr/bin/python3
"""A tidings client in a dozen lines of Python: submit an article and wait
for its acknowledgement, read it back, list events, print the stats.

Uses Debian's python3-zmq and python3-msgpack. Start the daemons first
(`tidings up`), then run:  scripts/example_client.py
Endpoints follow PROTOCOL.md; override them with TIDINGS_SUBMIT and
TIDINGS_QUERY.
"""
import os
import sys
import time

import msgpack
import zmq

SUBMIT = os.environ.get("TIDINGS_SUBMIT", "tcp://127.0.0.1:7402")
QUERY = os.environ.get("TIDINGS_QUERY", "tcp://127.0.0.1:7404")
TIMEOUT_MS = 3000

ctx = zmq.Context()


def request(endpoint, message):
    """Send one msgpack map over REQ and return the decoded reply.
    A daemon that does not answer in time is an error, not a hang."""
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        sock.send(msgpack.packb(message))
        if not sock.poll(TIMEOUT_MS):
            sys.exit(f"no answer from {endpoint} after {TIMEOUT_MS} ms")
        return msgpack.unpackb(sock.recv())
    finally:
        sock.close()


def ask(op, **params):
    reply = request(QUERY, {"op": op, **params})
    if not reply["ok"]:
        sys.exit(f"{op}: {reply['error']['code']}: {reply['error']['message']}")
    return reply["result"]


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


article = {
    "type": "article",
    "id": "example-client-1",
    "source": "Example Gazette",
    "title": "Bridge Over the Lorn River Reopens After Repairs",
    "body": "The bridge over the Lorn River in Port Elan reopened on Tuesday after "
            "three months of repairs, the city council said.",
    "published_at": int(time.time() * 1000),
    "meta": {"section": "local"},
}

# 1. submit with acknowledgement: the answer comes after the store committed
ack = request(SUBMIT, article)
if not ack["ok"]:
    sys.exit(f"rejected: {ack['error']['code']}: {ack['error']['message']}")
print(f"submitted {ack['id']}: {ack['status']}, event {ack['event']}")

# 2. read it back
got = ask("article.get", id=ack["id"])
print(f"read back: {got['title']!r} from {got.get('source')} "
      f"published {iso(got['published_at'])}")

# 3. the newest events
for event in ask("event.list", limit=5)["events"]:
    print(f"  event {event['id']}: {event['title']} "
          f"({event['articles']} articles, {event['sources']} sources)")

# 4. what the registry holds
stats = ask("stats")
print("stats: " + ", ".join(f"{k} {stats[k]}" for k in
                            ("articles", "events", "stories", "rejects")))
