"""Search postings held while the store is behind (--index-hold): every
stored article becomes searchable once the store catches up, a failed
commit loses nothing, and postings lost with a killed store are rebuilt
from the stored articles at the next start."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# small batches fill at once under a burst (the store is then behind), and
# neither the article count nor the age limit forces a flush
HOLD = ["--batch-max", "5", "--index-hold", "1000000", "--index-hold-ms", "600000"]


def word(i):
    """A made-up word only article i contains."""
    return "zorv" + "".join(chr(ord("a") + (i // 26 ** k) % 26) for k in range(3))


def article(i, tag):
    return {"type": "article", "id": "%s-%04d" % (tag, i), "source": "Hold Wire %d" % (i % 7),
            "title": "Harbour crane %s inspected" % word(i),
            "body": ("Engineers inspected the harbour crane %s at pier %d on Tuesday and said "
                     "the %s crane would return to service after repairs to its cable drum."
                     % (word(i), i, word(i))),
            "published_at": 1767225600000 + i * 60000}


class IndexHoldTest(unittest.TestCase):
    def cluster(self, name, **kw):
        c = harness.Cluster(name, extra={"store": list(HOLD)}, **kw).start()
        self.addCleanup(c.close)
        return c

    def counters(self, c):
        return c.stats()["counters"]

    def settled(self, c, n):
        """All n stored and none waiting for its postings."""
        c.wait_for(lambda: c.stats()["articles"] >= n and
                   self.counters(c)["doc_unindexed"] == 0, "%d articles searchable" % n,
                   timeout=120)

    def assert_searchable(self, c, ids):
        for i in ids:
            r = c.result("search", q=word(i), limit=5)
            got = [h["id"] for h in r["hits"]]
            self.assertEqual(len(got), 1, (word(i), got))
            self.assertTrue(got[0].endswith("-%04d" % i), (word(i), got))

    def test_1_held_then_flushed(self):
        c = self.cluster("hold")
        c.paused_burst(article(i, "held") for i in range(600))
        self.settled(c, 600)
        ctr = self.counters(c)
        # several batches went into one flush while the store was behind
        self.assertLess(ctr["index_flushes"], ctr["commits"], ctr)
        self.assertGreater(ctr["index_flushes"], 0, ctr)
        self.assert_searchable(c, range(0, 600, 7))
        self.assertEqual(c.result("search", q="harbour crane", limit=1)["total"], 600)
        c.stop()
        harness.assert_verified(self, c.data_dir)

    def test_2_kill9_while_held(self):
        c = self.cluster("hold-kill9")
        c.paused_burst(article(i, "k9") for i in range(1500))
        # kill the store while stored articles still wait for their postings
        seen = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = c.stats()
            if st["counters"]["doc_unindexed"] > 0:
                seen = st
                break
        self.assertIsNotNone(seen, "the store never held postings under a burst")
        c.kill9("store")
        c.start(("store",))
        # the ingest delivers what it still had queued to the new store
        stored = c.caught_up(what="the restarted store caught up")
        self.assertGreaterEqual(stored, seen["articles"])
        # every stored article is found by its own word, once
        found = [i for i in range(1500) if c.ask("article.get", id="k9-%04d" % i).get("ok")]
        self.assertEqual(len(found), stored)
        self.assert_searchable(c, found[::5])
        self.assertEqual(c.result("search", q="harbour crane", limit=1)["total"], stored)
        self.assertIn("re-indexed from their stored text", c.logs())
        c.stop()
        harness.assert_verified(self, c.data_dir)


class IndexHoldFaultTest(unittest.TestCase):
    """Commits that fail while postings are held: nothing is lost or doubled."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tidings-hold-faults-")
        cls.switch = os.path.join(cls.tmp, "fault")
        os.environ["TIDINGS_TEST_FAULTS"] = cls.switch

    @classmethod
    def tearDownClass(cls):
        os.environ.pop("TIDINGS_TEST_FAULTS", None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def set_fault(self, text):
        if text:
            with open(self.switch, "w") as f:
                f.write(text + "\n")
        elif os.path.exists(self.switch):
            os.unlink(self.switch)

    def test_failed_commits_while_held(self):
        c = harness.Cluster("hold-faults", extra={"store": list(HOLD)}).start()
        self.addCleanup(c.close)
        if "fault injection armed" not in c.logs():
            self.skipTest("built without TD_FAULT_INJECTION")
        c.paused_burst(article(i, "fl") for i in range(400))
        c.wait_for(lambda: c.stats()["counters"]["doc_unindexed"] > 0, "held postings")
        self.set_fault("commit")
        # (write_failures is only written by the next commit that succeeds)
        c.wait_for(lambda: "storage full" in c.logs(), "a failed commit", timeout=30)
        time.sleep(0.3)
        self.set_fault(None)
        c.wait_for(lambda: c.stats()["articles"] >= 400 and
                   c.stats()["counters"]["doc_unindexed"] == 0, "all searchable", timeout=120)
        for i in range(0, 400, 3):
            r = c.result("search", q=word(i), limit=5)
            self.assertEqual([h["id"] for h in r["hits"]], ["fl-%04d" % i], word(i))
        self.assertEqual(c.result("search", q="harbour crane", limit=1)["total"], 400)
        self.assertGreater(c.stats()["counters"]["write_failures"], 0)
        c.stop()
        harness.assert_verified(self, c.data_dir)


if __name__ == "__main__":
    harness.main()
