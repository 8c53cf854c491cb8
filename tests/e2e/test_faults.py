"""Storage faults and stale reader slots, against the real daemons.

A full disk is simulated with the store's test-only fault injection
(TIDINGS_TEST_FAULTS names a switch file that store/db.c reads at each put
and commit; docs/reliability.md): LMDB's commit, or its put, fails with
ENOSPC exactly as on a full disk.

- While the fault is on, acknowledged submits answer `unavailable`, the
  daemons stay up, nothing is stored, and the store logs a warning.
- Feed (PUSH) articles that arrive meanwhile are held, not lost.
- Once the fault is off, the same submissions succeed, the counts are
  exact, `stats.counters` shows the failures, tidings-verify and mdb_stat
  pass.
- A query process killed while it holds a read snapshot leaves a stale
  reader slot; the next query process clears it at start.
- When only the search index's writes fail (switch word `index`), articles
  are still stored and acknowledged; search finds them once the writes
  work again. Past twice `--index-hold-bytes` of postings waiting, intake
  waits as for a full disk, and feed articles are held, not lost.
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

SWITCH_DIR = tempfile.mkdtemp(prefix="tidings-faults-")
SWITCH = os.path.join(SWITCH_DIR, "fault")


def article(i, tag="fault"):
    return {"type": "article", "id": "%s-%03d" % (tag, i), "source": "Fault Wire",
            "title": "Reservoir gauge %d reads normal" % i,
            "body": ("Hydrologists checked reservoir gauge %d near Lake Ormer on Tuesday and "
                     "found the level normal, the water board said in a statement." % i),
            "published_at": 1767225600000 + i * 60000}


def set_fault(word):
    if word:
        with open(SWITCH, "w") as f:
            f.write(word + "\n")
    elif os.path.exists(SWITCH):
        os.unlink(SWITCH)


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.environ["TIDINGS_TEST_FAULTS"] = SWITCH
        set_fault(None)

    @classmethod
    def tearDownClass(cls):
        os.environ.pop("TIDINGS_TEST_FAULTS", None)
        shutil.rmtree(SWITCH_DIR, ignore_errors=True)

    def cluster(self, name):
        c = harness.Cluster(name).start()
        self.addCleanup(c.close)
        if "TEST-ONLY fault injection armed" not in c.daemons["store"].log():
            self.skipTest("built without TD_FAULT_INJECTION")
        return c

    def full_disk(self, word):
        c = self.cluster("faults-" + word)
        for i in range(3):
            self.assertTrue(c.submit(article(i, "before"))["ok"])

        set_fault(word)
        self.addCleanup(set_fault, None)
        for i in range(5):
            reply = c.submit(article(i), retry_unavailable=False)
            self.assertIs(reply.get("ok"), False, reply)
            self.assertEqual(reply["error"]["code"], "unavailable", reply)
        # feed articles during the fault: held by the store, not lost
        for i in range(4):
            c.push(article(i, "feed-" + word))
        c.assert_alive()
        self.assertEqual(c.stats()["articles"], 3, "nothing was stored during the fault")
        c.wait_for(lambda: "storage full" in c.daemons["store"].log(),
                   "the store's warning about the full disk")
        # a retry has failed with the feed articles held (not dropped)
        c.wait_for(lambda: "4 feed message(s) held" in c.daemons["store"].log(),
                   "a failed retry holding the 4 feed articles")
        reply = c.submit(article(0), retry_unavailable=False)
        self.assertEqual((reply.get("error") or {}).get("code"), "unavailable", reply)
        self.assertEqual(c.stats()["articles"], 3, "still nothing stored")

        set_fault(None)
        statuses = [c.submit(article(i))["status"] for i in range(5)]
        self.assertEqual(statuses, ["stored"] * 5)
        again = [c.submit(article(i))["status"] for i in range(5)]
        self.assertEqual(again, ["unchanged"] * 5, "a retry is never a second copy")
        st = c.wait_articles(3 + 5 + 4)
        self.assertEqual(st["articles"], 3 + 5 + 4, "counts are exact")
        for i in range(4):
            self.assertTrue(c.ask("article.get", id="feed-%s-%03d" % (word, i))["ok"])
        self.assertIn("ingestion resumed", c.daemons["store"].log())

        ctr = c.stats()["counters"]
        self.assertGreaterEqual(ctr["write_failures"], 1, ctr)
        self.assertGreaterEqual(ctr["nospace"], 1, ctr)
        self.assertEqual(ctr["stored"], 12, ctr)
        self.assertEqual(ctr["unchanged"], 5, ctr)
        self.assertEqual(ctr["retries"], 5, ctr)
        self.assertGreaterEqual(ctr["commits"], 1, ctr)
        c.assert_alive()

        c.stop(which=("ingest", "query", "store"))
        harness.assert_verified(self, c.data_dir)
        mdb_stat = shutil.which("mdb_stat")
        if mdb_stat:
            out = subprocess.run([mdb_stat, "-a", c.data_dir], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)

    def test_full_disk_at_commit(self):
        self.full_disk("commit")

    def test_full_disk_at_put(self):
        self.full_disk("put")

    def test_index_writes_fail(self):
        c = harness.Cluster("faults-index", extra={"store": ["--index-hold-bytes", "64K"]})
        c.start()
        self.addCleanup(c.close)
        if "TEST-ONLY fault injection armed" not in c.daemons["store"].log():
            self.skipTest("built without TD_FAULT_INJECTION")

        def hits(q):
            return c.result("search", q=q)["total"]

        def unindexed():
            return c.stats()["counters"]["doc_unindexed"]

        self.assertEqual(c.submit(article(0, "ix"))["status"], "stored")
        self.assertEqual(hits("reservoir"), 1, "found once acknowledged")

        set_fault("index")
        self.addCleanup(set_fault, None)
        for i in range(1, 6):
            self.assertEqual(c.submit(article(i, "ix"))["status"], "stored")
        self.assertEqual(c.stats()["articles"], 6, "articles do not wait on the index")
        self.assertEqual(unindexed(), 5)
        self.assertEqual(hits("reservoir"), 1, "not searchable yet")
        self.assertIn("not written yet", c.daemons["store"].log())

        # feed articles with words of their own until the postings waiting
        # pass twice 64 KiB: then intake waits, acked submits are refused
        for i in range(400):
            a = article(100 + i, "ixfeed")
            a["body"] += " " + " ".join("marker%dx%d" % (i, k) for k in range(40))
            c.push(a)
        stopped = "no new articles until it succeeds"
        c.wait_for(lambda: stopped in c.daemons["store"].log() or c.stats()["articles"] == 406,
                   "the feed articles stored or held")
        # either way the postings waiting are past the limit now
        reply = c.submit(article(50, "ix"), retry_unavailable=False)
        self.assertEqual((reply.get("error") or {}).get("code"), "unavailable", reply)
        self.assertIn(stopped, c.daemons["store"].log())
        c.assert_alive()

        set_fault(None)
        st = c.wait_articles(6 + 400)
        self.assertEqual(st["articles"], 6 + 400, "no feed article lost")
        c.wait_for(lambda: unindexed() == 0, "the held postings to be written")
        self.assertEqual(hits("reservoir"), 406)
        self.assertEqual(hits("marker399x39"), 1)
        self.assertEqual(c.submit(article(50, "ix"))["status"], "stored")
        self.assertEqual(hits("reservoir"), 407)
        c.stop(which=("ingest", "query", "store"))
        harness.assert_verified(self, c.data_dir)

    def test_counters_in_stats(self):
        c = self.cluster("faults-counters")
        self.assertTrue(c.submit(article(1, "ctr"))["ok"])
        c.push(b"\xc1")                         # not msgpack: a bad_request reject
        c.wait_for(lambda: c.stats()["rejects"] >= 1, "the reject record")
        ctr = c.stats()["counters"]
        for name in ("commits", "stored", "updated", "unchanged", "retries", "map_grows",
                     "rejects_bad_request", "rejects_too_large", "rejects_other",
                     "write_failures", "nospace", "reader_clears"):
            self.assertIn(name, ctr)
        self.assertEqual(ctr["stored"], 1)
        self.assertEqual(ctr["rejects_bad_request"], 1)
        self.assertEqual(ctr["write_failures"], 0)
        for key in ("articles", "events", "stories", "rejects", "db_bytes", "uptime_s",
                    "version"):
            self.assertIn(key, c.stats(), "PROTOCOL.md's fields stay")

    def test_stale_reader_slot_cleared(self):
        mdb_stat = shutil.which("mdb_stat")
        if not mdb_stat:
            self.skipTest("mdb_stat (lmdb-utils) not installed")
        c = self.cluster("faults-readers")
        self.assertTrue(c.submit(article(1, "rd"))["ok"])
        pid = c.daemons["query"].proc.pid

        def slot_of(p):
            out = subprocess.run([mdb_stat, "-r", c.data_dir], capture_output=True,
                                 text=True).stdout
            return any(line.split()[:1] == [str(p)] for line in out.splitlines())

        # make the query daemon hold its read snapshot, ask it something,
        # and SIGKILL it while it holds the slot
        set_fault("hold 30000")
        self.addCleanup(set_fault, None)
        sock = c._socket(harness.zmq.REQ, c.query_ep, 5)
        self.addCleanup(sock.close, 0)
        sock.send(harness.pack({"op": "stats"}))
        c.wait_for(lambda: slot_of(pid), "the query daemon's reader slot")
        c.kill9("query")
        set_fault(None)
        self.assertTrue(slot_of(pid), "the killed process left its slot behind")

        c.start(which=("query",))
        c.wait_for(lambda: "cleared 1 stale reader slot" in c.daemons["query"].log(),
                   "the new query daemon to clear the stale slot")
        self.assertFalse(slot_of(pid), "the stale slot is gone")
        self.assertTrue(c.ask("article.get", id="rd-001")["ok"])


if __name__ == "__main__":
    harness.require_binaries()
    harness.main()
