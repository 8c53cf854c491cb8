"""Crash test: nothing acknowledged is lost or doubled.

Several producers submit acknowledged articles (Lazy Pirate: on a timeout
they close the socket, open a new one and resend the same article) while a
killer SIGKILLs the store or the ingest daemon at random moments and starts
it again. Afterwards every acknowledged id reads back exactly once with its
content, stats counts exactly the distinct ids, and the LMDB environment
passes mdb_stat and tidings-verify (links, keys, counters, search index). Bounded to about a minute. Prints trials, acknowledged,
lost and doubled.
"""
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import unittest

import harness
import zmq

PRODUCERS = 4
PER_PRODUCER = int(os.environ.get("TD_CRASH_ARTICLES", "300"))
KILL_EVERY = (0.3, 1.2)          # seconds between kills
DEADLINE = 90.0                  # seconds for the whole run


def article(p, i):
    return {"type": "article", "id": "crash-%d-%05d" % (p, i), "source": "Crash Wire %d" % p,
            "title": "Harbour crane %d of line %d restored" % (i, p),
            "body": ("Engineers in Port Alvar restored crane %d on line %d on Monday after "
                     "a power fault, the harbour authority said. Work resumed within the "
                     "hour and no one was hurt." % (i, p)),
            "published_at": 1767225600000 + p * 1000000 + i * 1000}


class Producer(threading.Thread):
    def __init__(self, cluster, p, stop):
        super().__init__(daemon=True)
        self.c, self.p, self.stop = cluster, p, stop
        self.acked = {}
        self.retries = 0
        self.error = None

    def _socket(self):
        s = harness._ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.c.submit_ep)
        return s

    def run(self):
        try:
            s = self._socket()
            for i in range(PER_PRODUCER):
                a = article(self.p, i)
                frame = harness.pack(a)
                while not self.stop.is_set():
                    s.send(frame)
                    if s.poll(1500, zmq.POLLIN):
                        reply = harness.unpack(s.recv())
                        if reply.get("ok"):
                            self.acked[a["id"]] = a
                            break
                        code = (reply.get("error") or {}).get("code")
                        if code != "unavailable":
                            raise AssertionError("unexpected reply %r" % reply)
                        self.retries += 1
                        time.sleep(0.05)
                        continue
                    # Lazy Pirate: the REQ socket is stuck; throw it away
                    self.retries += 1
                    s.close(0)
                    s = self._socket()
                if self.stop.is_set():
                    break
            s.close(0)
        except Exception as exc:  # reported by the test
            self.error = exc


class CrashTest(unittest.TestCase):
    def test_kill9_store_and_ingest(self):
        c = harness.Cluster("crash").start()
        self.addCleanup(c.close)
        stop = threading.Event()
        producers = [Producer(c, p, stop) for p in range(PRODUCERS)]
        for pr in producers:
            pr.start()

        rng = random.Random(int(os.environ.get("TD_CRASH_SEED", "7")))
        trials = 0
        t_end = time.monotonic() + DEADLINE
        while any(pr.is_alive() for pr in producers) and time.monotonic() < t_end:
            time.sleep(rng.uniform(*KILL_EVERY))
            if not any(pr.is_alive() for pr in producers):
                break
            victim = rng.choice(["store", "ingest", "store"])
            c.kill9(victim)
            c.start(which=(victim,))
            trials += 1
        stop.set()
        for pr in producers:
            pr.join(10)
            self.assertIsNone(pr.error, "producer %d failed: %r" % (pr.p, pr.error))
            self.assertFalse(pr.is_alive(), "producer %d did not finish" % pr.p)

        acked = {}
        for pr in producers:
            acked.update(pr.acked)
        self.assertEqual(len(acked), PRODUCERS * PER_PRODUCER,
                         "every article was eventually acknowledged")

        # restart everything once more and read back from a clean start
        c.restart()
        lost, wrong = [], []
        for aid, a in acked.items():
            reply = c.ask("article.get", id=aid)
            if not reply.get("ok"):
                lost.append(aid)
                continue
            got = reply["result"]
            if got.get("source") != a["source"] or got.get("published_at") != a["published_at"]:
                wrong.append(aid)
        stats = c.stats()
        doubled = stats["articles"] - (len(acked) - len(lost))
        print("crash test: %d trials, %d acknowledged, %d lost, %d doubled, %d retries"
              % (trials, len(acked), len(lost), doubled, sum(pr.retries for pr in producers)))
        self.assertGreaterEqual(trials, 5, "the killer ran")
        self.assertEqual(lost, [], "acknowledged articles lost")
        self.assertEqual(wrong, [], "articles read back with other content")
        self.assertEqual(doubled, 0, "articles stored twice")

        c.stop(which=("ingest", "query", "store"))
        mdb_stat = shutil.which("mdb_stat")
        if mdb_stat:
            out = subprocess.run([mdb_stat, "-a", c.data_dir], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("articles", out.stdout)
        # the project's own check: event/story links, keys, counters, index
        out = harness.verify(c.data_dir)
        print(out.stdout.strip())
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    harness.require_binaries()
    unittest.main(verbosity=2)
