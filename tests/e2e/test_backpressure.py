"""Back-pressure: a producer faster than the store blocks; daemon memory stays bounded.

The store is paused with SIGSTOP while a PUSH producer sends many articles
(TD_BP_ARTICLES, default 30000). The bounded queues between the processes
(PUSH/PULL and link high-water marks, ingest reading its feed only while the
link can take a message; docs/reliability.md) must fill and then block the
producer, instead of the daemons buffering everything: the producer's send
times out before it has sent them all, an acked submit meanwhile waits or
answers `unavailable`, and the resident memory of ingest and store stays under a
generous bound. After SIGCONT every article is stored exactly once.

This is a memory bound, not a timing assertion: the only clock involved is
the producer's send timeout that tells "blocked" from "sending".
"""
import os
import random
import signal
import unittest

import harness
import zmq

N = int(os.environ.get("TD_BP_ARTICLES", "30000"))
RSS_GROWTH_MB = 400          # generous: the queues hold a few thousand frames
WORDS = ("harbour council bridge river storm vote court rail strike festival school "
         "hospital budget mayor minister flood drought market factory airport border "
         "police museum farm election bank energy port tunnel village coast").split()


def sanitized():
    """A -DTD_SANITIZE=ON build: ASan's quarantine and shadow memory make RSS
    meaningless as a bound, so the memory assertions are left out there."""
    try:
        with open(os.path.join(harness.BUILD_DIR, "CMakeCache.txt")) as f:
            return "TD_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def article(rng, i):
    words = [rng.choice(WORDS) for _ in range(60)]
    return {"type": "article", "id": "bp-%06d" % i, "source": "Pressure Wire %d" % (i % 7),
            "title": "%s %s %s report %d" % (words[0], words[1], words[2], i),
            "body": "The %s said on Monday that %s. Officials added that %s." % (
                words[3], " ".join(words[4:30]), " ".join(words[30:])),
            "published_at": 1767225600000 + i * 1000}


class BackPressureTest(unittest.TestCase):
    def test_producer_blocks_memory_bounded(self):
        c = harness.Cluster("backpressure").start()
        self.addCleanup(c.close)
        store = c.daemons["store"].proc
        ingest = c.daemons["ingest"].proc
        self.assertTrue(c.submit({"type": "article", "id": "bp-warm", "title": "Warm up",
                                  "body": "The first article opens the database."})["ok"])
        base = {"store": rss_mb(store.pid), "ingest": rss_mb(ingest.pid)}

        rng = random.Random(11)
        frames = [harness.pack(article(rng, i)) for i in range(N)]
        push = harness._ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        push.setsockopt(zmq.SNDHWM, 1000)
        push.connect(c.feed_ep)
        self.addCleanup(push.close, 0)

        os.kill(store.pid, signal.SIGSTOP)
        resumed = False
        try:
            push.setsockopt(zmq.SNDTIMEO, 3000)
            sent = 0
            try:
                while sent < N:
                    push.send(frames[sent])
                    sent += 1
            except zmq.Again:
                pass
            peak = {"store": rss_mb(store.pid), "ingest": rss_mb(ingest.pid)}
            print("back-pressure: %d of %d sent before the producer blocked; RSS MB "
                  "store %.0f -> %.0f, ingest %.0f -> %.0f"
                  % (sent, N, base["store"], peak["store"], base["ingest"], peak["ingest"]))
            self.assertLess(sent, N, "the producer was blocked while the store was paused")
            if not sanitized():
                self.assertLess(peak["ingest"] - base["ingest"], RSS_GROWTH_MB,
                                "ingest memory stays bounded")
            # an acked submit meanwhile either waits or answers `unavailable`
            req = harness._ctx.socket(zmq.REQ)
            req.setsockopt(zmq.LINGER, 0)
            req.connect(c.submit_ep)
            self.addCleanup(req.close, 0)
            req.send(harness.pack({"type": "article", "id": "bp-acked", "title": "Acked",
                                   "body": "An acknowledged submit while the store is paused."}))
            early = harness.unpack(req.recv()) if req.poll(3000) else None
            if early is not None:
                self.assertEqual((early.get("error") or {}).get("code"), "unavailable", early)

            os.kill(store.pid, signal.SIGCONT)
            resumed = True
            push.setsockopt(zmq.SNDTIMEO, 120000)
            while sent < N:
                push.send(frames[sent])
                sent += 1
                if sent % 2000 == 0:
                    for name, pid in (("store", store.pid), ("ingest", ingest.pid)):
                        peak[name] = max(peak[name], rss_mb(pid))
        finally:
            if not resumed:
                os.kill(store.pid, signal.SIGCONT)
        if early is None:
            # it may be queued behind the feed backlog: allow for draining it
            self.assertTrue(req.poll(240000),
                            "the waiting acked submit is answered once the store resumes")
            late = harness.unpack(req.recv())
            print("back-pressure: the acked submit waited, then: %r" % late)
            self.assertTrue(late.get("ok") or late["error"]["code"] == "unavailable", late)
        else:
            print("back-pressure: the acked submit was answered at once: %r" % early)
        self.assertTrue(c.submit({"type": "article", "id": "bp-acked", "title": "Acked",
                                  "body": "An acknowledged submit while the store is paused."},
                                 timeout=60)["ok"])
        st = c.wait_articles(N + 2, timeout=240)
        for name, pid in (("store", store.pid), ("ingest", ingest.pid)):
            peak[name] = max(peak[name], rss_mb(pid))
        print("back-pressure: all sent; peak RSS MB store %.0f, ingest %.0f"
              % (peak["store"], peak["ingest"]))
        self.assertEqual(st["articles"], N + 2, "every article stored exactly once")
        if not sanitized():
            self.assertLess(peak["store"] - base["store"], RSS_GROWTH_MB,
                            "store memory bounded")
            self.assertLess(peak["ingest"] - base["ingest"], RSS_GROWTH_MB,
                            "ingest memory bounded")
        c.assert_alive()


if __name__ == "__main__":
    harness.require_binaries()
    harness.main()
