"""Subscribers on the publish endpoint see what happens, in order, with a
sequence number that grows by exactly one per notification."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TYPES = ("article.stored", "article.rejected", "event.created", "event.updated")


class NotificationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.corpus = harness.load_corpus()
        cls.c = harness.Cluster("notifications").start()

    def subscribe_ready(self, prefix=b""):
        """A subscriber that is known to be connected: PUB drops everything
        sent before the subscription reaches it, so give it a moment and
        check the socket is still fine."""
        sub = self.c.subscribe(prefix)
        time.sleep(0.5)
        return sub

    def test_1_stored_and_created(self):
        sub_all = self.subscribe_ready(b"")
        sub_events = self.subscribe_ready(b"event.")
        try:
            batch = self.corpus[:8]
            acks = [self.c.submit(a) for a in batch]
            for ack in acks:
                self.assertEqual(ack.get("status"), "stored", ack)
            ids = {a["id"] for a in batch}
            events = {ack["event"] for ack in acks}

            def complete(got):
                stored = {m.get("id") for _, m in got if m and m.get("type") == "article.stored"}
                created = {m.get("id") for _, m in got if m and m.get("type") == "event.created"}
                return ids <= stored and events <= created

            got = harness.receive(sub_all, complete)
            msgs = [m for _, m in got]
            self.assertTrue(all(isinstance(m, dict) for m in msgs), got)
            stored = {m["id"] for m in msgs if m["type"] == "article.stored"}
            created = {m["id"] for m in msgs if m["type"] == "event.created"}
            self.assertLessEqual(ids, stored, "missing article.stored notifications")
            self.assertLessEqual(events, created, "missing event.created notifications")
            for topic, m in got:
                with self.subTest(seq=m.get("seq")):
                    self.assertIn(m["type"], TYPES)
                    self.assertIsInstance(m["id"], str)
                    self.assertTrue(topic.startswith(m["type"].split(".")[0] + "."),
                                    "topic %r for a %s" % (topic, m["type"]))
            # An article.stored names the event the ack named.
            by_article = {m["id"]: m for m in msgs if m["type"] == "article.stored"}
            for a, ack in zip(batch, acks):
                if "event" in by_article[a["id"]]:
                    self.assertEqual(by_article[a["id"]]["event"], ack["event"])
            # seq grows by exactly one (no load here, so no drops).
            seqs = [m["seq"] for m in msgs]
            self.assertTrue(all(isinstance(s, int) for s in seqs), seqs)
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), seqs)
            # Each event was created once, and before any update of it.
            for eid in events:
                kinds = [m["type"] for m in msgs if m["id"] == eid and m["type"].startswith("event.")]
                self.assertEqual(kinds.count("event.created"), 1, kinds)
                self.assertEqual(kinds[0], "event.created", kinds)

            # The filtered subscriber saw only event.* notifications, the same
            # ones, with the same seq numbers.
            want = [m for m in msgs if m["type"].startswith("event.")]
            got_ev = harness.receive(sub_events, lambda g: len(g) >= len(want), timeout=5)
            self.assertEqual([m for _, m in got_ev], want)
            self.assertTrue(all(t.startswith("event.") for t, _ in got_ev))

            # A resubmission changes nothing, so it announces nothing new.
            again = self.c.submit(batch[0])
            self.assertEqual(again.get("status"), "unchanged")
            extra = harness.receive(sub_all, lambda g: False, timeout=1.0)
            self.assertFalse([m for _, m in extra if m and m.get("type") == "article.stored"
                              and m.get("id") == batch[0]["id"]], extra)
        finally:
            sub_all.close(0)
            sub_events.close(0)

    def test_2_seq_continues(self):
        """seq keeps counting from where it was: a later batch continues the
        same sequence, including rejects fed through the PUSH door."""
        sub = self.subscribe_ready(b"")
        try:
            a = dict(self.corpus[10])
            ack = self.c.submit(a)
            self.assertEqual(ack.get("status"), "stored", ack)
            self.c.push(harness.pack({"type": "article", "body": 17}))
            b = dict(self.corpus[11])
            ack2 = self.c.submit(b)
            self.assertEqual(ack2.get("status"), "stored", ack2)

            def done(got):
                return b["id"] in {m.get("id") for _, m in got if m and m.get("type") == "article.stored"}

            got = harness.receive(sub, done)
            seqs = [m["seq"] for _, m in got]
            self.assertTrue(seqs, "no notifications")
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), seqs)
            st = self.c.stats()
            if "seq" in st:
                self.assertGreaterEqual(st["seq"], seqs[-1])
        finally:
            sub.close(0)


if __name__ == "__main__":
    harness.main()
