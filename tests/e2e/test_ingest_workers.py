"""The analysis worker pool of tidings-ingest (--workers): many concurrent
producers on both doors, every acknowledged article stored exactly once, the
feed's order kept (a later revision of an article wins), rejects recorded,
and a SIGTERM in the middle of acked traffic answers what it took."""

import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zmq  # noqa: E402

PRODUCERS = 6
PER_PRODUCER = 60
WINDOW = 16
WORDS = ("harbour council budget river bridge vote school hospital court strike "
         "festival museum railway station drought harvest market factory").split()


def article(tag, i, version=None):
    """A small distinct article; its words depend on the tag and number so
    that articles are not copies of each other."""
    rnd = (hash((tag, i)) & 0xFFFFFFFF) or 1
    words = []
    for k in range(60):
        rnd = (rnd * 1103515245 + 12345) & 0x7FFFFFFF
        words.append(WORDS[rnd % len(WORDS)])
    body = "%s item %d. The %s council met in Ostvik on Tuesday. %s." % (
        tag, i, WORDS[i % len(WORDS)], " ".join(words).capitalize())
    if version is not None:
        body += " This is version %d of the report." % version
    return {"type": "article", "id": "%s-%d" % (tag, i), "source": "Wire %d" % (i % 5),
            "title": "%s report %d" % (tag.capitalize(), i), "body": body,
            "published_at": 1700000000000 + i * 60000}


def acked_producer(endpoint, tag, n, out, timeout_ms=60000):
    """Submit n articles with WINDOW in flight on one DEALER; out[id] = reply."""
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.connect(endpoint)
    try:
        sent = got = 0
        while got < n:
            while sent < n and sent - got < WINDOW:
                s.send_multipart([b"", harness.pack(article(tag, sent))])
                sent += 1
            try:
                frames = s.recv_multipart()
            except zmq.Again:
                break
            got += 1
            rep = harness.unpack(frames[-1])
            out[rep.get("id") or "%s-error-%d" % (tag, got)] = rep
    finally:
        s.close(0)


class IngestWorkersTest(unittest.TestCase):

    def test_01_many_producers_two_workers(self):
        """Six acked producers and a PUSH producer at once, with two analysis
        workers: every acknowledgement is ok/stored, every article is stored
        once (stats counts exactly the submissions; a resubmission is
        unchanged), and malformed feed frames become reject records."""
        c = harness.Cluster("workers2", extra={"ingest": ["--workers", "2"]}).start()
        try:
            replies = [dict() for _ in range(PRODUCERS)]
            threads = [threading.Thread(target=acked_producer,
                                        args=(c.submit_ep, "p%d" % k, PER_PRODUCER, replies[k]))
                       for k in range(PRODUCERS)]
            for t in threads:
                t.start()
            pushed = [article("feed", i) for i in range(150)]
            bad = 0
            for i, a in enumerate(pushed):
                c.push(a)
                if i % 30 == 0:
                    c.push(b"\x93not a map")     # not a submission
                    bad += 1
            for t in threads:
                t.join(120)
                self.assertFalse(t.is_alive(), "a producer did not get all its replies")
            total = PRODUCERS * PER_PRODUCER + len(pushed)
            c.wait_articles(total, timeout=120)
            c.wait_for(lambda: c.stats()["rejects"] >= bad, "%d rejects" % bad)
            st = c.stats()
            self.assertEqual(st["articles"], total, st)
            self.assertEqual(st["rejects"], bad, st)
            for k in range(PRODUCERS):
                self.assertEqual(len(replies[k]), PER_PRODUCER)
                for i in range(PER_PRODUCER):
                    aid = "p%d-%d" % (k, i)
                    rep = replies[k].get(aid)
                    self.assertIsNotNone(rep, "no reply for %s" % aid)
                    self.assertIs(rep.get("ok"), True, rep)
                    self.assertEqual(rep.get("status"), "stored", rep)
            # stored exactly once: each one reads back, and resubmitting is
            # recognised as the same article
            for k in range(PRODUCERS):
                for i in (0, PER_PRODUCER // 2, PER_PRODUCER - 1):
                    got = c.result("article.get", id="p%d-%d" % (k, i))
                    self.assertIn("p%d item %d." % (k, i), got["body"])
                    again = c.submit(article("p%d" % k, i))
                    self.assertEqual(again.get("status"), "unchanged", again)
            self.assertEqual(c.stats()["articles"], total)
        finally:
            c.stop()

    def test_02_feed_order_kept(self):
        """Revisions of the same articles pushed in a row, with three workers:
        the store sees them in the order pushed, so the last revision is
        what reads back."""
        c = harness.Cluster("workers-order", extra={"ingest": ["--workers", "3"]}).start()
        try:
            ids = 7
            versions = 12
            for v in range(1, versions + 1):
                for i in range(ids):
                    c.push(article("rev", i, version=v))
            c.push(article("sentinel", 0))
            c.wait_articles(ids + 1, timeout=60)
            # the sentinel came last: once it is stored, so is everything
            # pushed before it (same order on the store link)
            c.wait_for(lambda: self._has(c, "sentinel-0"), "the sentinel")
            for i in range(ids):
                got = c.result("article.get", id="rev-%d" % i)
                self.assertIn("version %d of the report" % versions, got["body"], got["id"])
        finally:
            c.stop()

    @staticmethod
    def _has(c, aid):
        return c.ask("article.get", id=aid).get("ok") is True

    def test_03_sigterm_answers_what_it_took(self):
        """SIGTERM while acked producers are busy: ingest exits 0, and every
        submission it acknowledged as stored is in the database."""
        c = harness.Cluster("workers-term", extra={"ingest": ["--workers", "2"]}).start()
        try:
            replies = [dict() for _ in range(3)]
            threads = [threading.Thread(target=acked_producer,
                                        args=(c.submit_ep, "t%d" % k, 400, replies[k], 8000))
                       for k in range(3)]
            for t in threads:
                t.start()
            c.wait_for(lambda: c.stats()["articles"] >= 30, "some articles stored", timeout=60)
            self.assertEqual(c.daemons["ingest"].stop(), 0, c.logs())
            for t in threads:
                t.join(60)
            ok = [aid for r in replies for aid, rep in r.items() if rep.get("ok")]
            errors = [rep for r in replies for rep in r.values() if not rep.get("ok")]
            self.assertTrue(ok)
            for rep in errors:
                self.assertEqual(rep["error"]["code"], "unavailable", rep)
            for aid in ok:
                self.assertTrue(self._has(c, aid), "%s acknowledged but not stored" % aid)
        finally:
            c.stop()

    def test_04_two_ingest_processes(self):
        """A second tidings-ingest on its own endpoints shares the store:
        acked submits through either one are answered by the one that took
        them, and everything fed through both is stored."""
        c = harness.Cluster("workers-two-procs", extra={"ingest": ["--workers", "1"]}).start()
        feed2, submit2 = ("tcp://127.0.0.1:%d" % p for p in harness.free_ports(2))
        second = harness.Daemon("ingest2", [
            harness.binary("tidings-ingest"), "--feed", feed2, "--submit", submit2,
            "--store", c.store_ep, "--workers", "1"], os.path.join(c.tmp, "ingest2.log"))
        second.start()
        try:
            c._wait(lambda: harness.port_open(int(submit2.rsplit(":", 1)[1])), second,
                    "the second ingest to listen")
            replies = [dict(), dict()]
            threads = [threading.Thread(target=acked_producer, args=(ep, tag, 80, out))
                       for ep, tag, out in ((c.submit_ep, "one", replies[0]),
                                            (submit2, "two", replies[1]))]
            for t in threads:
                t.start()
            push2 = harness._ctx.socket(zmq.PUSH)
            push2.setsockopt(zmq.LINGER, 5000)
            push2.connect(feed2)
            for i in range(40):
                push2.send(harness.pack(article("push-two", i)))
            push2.close()
            for t in threads:
                t.join(120)
            for out, tag in ((replies[0], "one"), (replies[1], "two")):
                self.assertEqual(len(out), 80, tag)
                for i in range(80):
                    rep = out.get("%s-%d" % (tag, i))
                    self.assertIsNotNone(rep, "%s-%d unanswered" % (tag, i))
                    self.assertEqual(rep.get("status"), "stored", rep)
            c.wait_articles(200, timeout=60)
            self.assertEqual(c.stats()["articles"], 200)
        finally:
            self.assertEqual(second.stop(), 0, second.log())
            c.stop()


if __name__ == "__main__":
    harness.main()
