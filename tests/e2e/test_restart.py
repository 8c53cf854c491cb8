"""Stop and start the daemons on the same data directory: everything reads
back identically, nothing acknowledged is lost, and the data directory is
locked against a second store."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Fields that legitimately change across a restart.
VOLATILE_STATS = ("uptime_s", "db_bytes", "map_bytes")


def snapshot(c, ids):
    """Everything a user can read about the stored corpus."""
    snap = {"articles": {}, "events": {}, "stories": {}}
    for aid in ids:
        art = c.result("article.get", id=aid)
        snap["articles"][aid] = art
        if art["event"] not in snap["events"]:
            snap["events"][art["event"]] = c.result("event.get", id=art["event"])
        if art["story"] not in snap["stories"]:
            snap["stories"][art["story"]] = c.result("story.get", id=art["story"])
    snap["event_list"], _ = c.list_all("event.list", "events", limit=5)
    snap["rejects"], _ = c.list_all("rejects.list", "rejects", limit=5)
    st = c.stats()
    snap["stats"] = {k: v for k, v in st.items() if k not in VOLATILE_STATS}
    return snap


class RestartTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.corpus = harness.load_corpus()
        cls.ids = [a["id"] for a in cls.corpus]
        cls.c = harness.Cluster("restart").start()
        for a in cls.corpus:
            ack = cls.c.submit(a)
            assert ack.get("ok") is True and ack.get("status") == "stored", ack
        # One reject, so that rejects survive too.
        cls.c.push(b"definitely not msgpack \xc1")
        cls.c.wait_for(lambda: cls.c.stats()["rejects"] >= 1, "the reject to be recorded")

    def test_1_sigterm_restart_reads_back_identically(self):
        before = snapshot(self.c, self.ids)
        self.assertEqual(before["stats"]["articles"], len(self.corpus))
        self.c.stop()          # asserts every daemon exits 0
        self.assertEqual(self.c.alive(), ["store", "ingest", "query"])
        self.c.start()
        after = snapshot(self.c, self.ids)
        for part in ("articles", "events", "stories", "event_list", "rejects"):
            with self.subTest(part=part):
                self.assertEqual(after[part], before[part])
        stats_after = dict(after["stats"])
        stats_before = dict(before["stats"])
        self.assertEqual(stats_after, stats_before)
        # Keys survive: resubmitting is still idempotent.
        ack = self.c.submit(self.corpus[3])
        self.assertEqual(ack.get("status"), "unchanged", ack)
        self.assertEqual(ack.get("event"), before["articles"][self.ids[3]]["event"])

    def test_2_second_store_refuses(self):
        """A second store on the same data directory refuses to start, with a
        message, while the first keeps running."""
        p_store, p_pub = harness.free_ports(2)
        args = [harness.binary("tidings-store"), "--data", self.c.data_dir,
                "--store", "tcp://127.0.0.1:%d" % p_store,
                "--publish", "tcp://127.0.0.1:%d" % p_pub]
        try:
            proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("a second store on %s kept running instead of refusing" % self.c.data_dir)
        self.assertNotEqual(proc.returncode, 0)
        err = (proc.stderr + proc.stdout).decode("utf-8", "replace")
        self.assertTrue(err.strip(), "refused without saying why")
        lowered = err.lower()
        # The message names the directory and says it is taken (the ports
        # are fresh, so a bind failure cannot be the reason).
        self.assertIn(self.c.data_dir, err)
        self.assertTrue("lock" in lowered or "already" in lowered or "in use" in lowered,
                        "message does not say the directory is taken: %r" % err)
        self.c.assert_alive()
        self.assertIs(self.c.ask("ping")["ok"], True)

    def test_3_kill9_store_loses_nothing_acked(self):
        """Acknowledged means durable: after kill -9 of the store, a restart
        shows every acked article."""
        extra = []
        for i in range(20):
            a = dict(self.corpus[i % len(self.corpus)])
            a["id"] = "kill9-%02d" % i
            a["url"] = "https://example.test/kill9/%02d" % i
            a["body"] = a["body"] + "\n\nUpdate %d: officials gave no further details." % i
            ack = self.c.submit(a)
            self.assertEqual(ack.get("status"), "stored", ack)
            extra.append(a["id"])
        self.c.kill9("store")
        self.c.start(("store",))
        for aid in extra:
            got = self.c.wait_for(lambda: self._get(aid), "article %s after kill -9" % aid)
            self.assertEqual(got["id"], aid)
        self.assertEqual(self.c.stats()["articles"], len(self.corpus) + len(extra))
        # The ingest reconnects to the restarted store by itself.
        ack = self.c.submit(dict(self.corpus[0], id="after-kill9",
                                 url="https://example.test/after-kill9"))
        self.assertEqual(ack.get("status"), "stored", ack)

    def test_4_kill9_ingest_and_query(self):
        self.c.kill9("ingest")
        self.c.kill9("query")
        self.c.start(("ingest", "query"))
        ack = self.c.submit(dict(self.corpus[1], id="after-kill9-ingest",
                                 url="https://example.test/after-kill9-ingest"))
        self.assertEqual(ack.get("status"), "stored", ack)
        self.assertEqual(self.c.result("article.get", id="after-kill9-ingest")["source"],
                         self.corpus[1]["source"])
        self.c.assert_alive()

    def _get(self, aid):
        reply = self.c.ask("article.get", id=aid)
        return reply["result"] if reply.get("ok") else None


if __name__ == "__main__":
    harness.main()
