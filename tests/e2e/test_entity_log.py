"""Entity counts and links while the store is behind (store/entity_tally.h):
a store working through a backlog logs each commit's entity changes and
writes the entity tables later; once it has caught up, entity.get counts
every stored article that names the entity and lists its events, also
when the store was killed with changes only in the log."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# small batches: a burst makes hundreds of commits, each with more waiting
BEHIND = ["--batch-max", "5"]
# what a store that is behind holds back: postings and entity changes
WAITING = ("doc_unindexed", "entity_logged")
TOWNS = ["Kesselby", "Varnholm", "Ostrelund", "Brisach"]


def article(i, tag):
    town = TOWNS[i % len(TOWNS)]
    return {"type": "article", "id": "%s-%04d" % (tag, i), "source": "Ledger Wire %d" % (i % 5),
            "title": "Mayor Ilse Brandvik opens %s ferry pier %d" % (town, i),
            "body": ("Mayor Ilse Brandvik opened the new ferry pier %d in %s on Tuesday. "
                     "Ilse Brandvik said the pier would carry commuters from the spring. "
                     "Harbour engineers in %s finished the work two weeks early."
                     % (i, town, town)),
            "published_at": 1767225600000 + (i // 40) * 86400000 * 9 + i * 60000}


class EntityLogTest(unittest.TestCase):
    def cluster(self, name):
        c = harness.Cluster(name, extra={"store": list(BEHIND)}).start()
        self.addCleanup(c.close)
        return c

    def entity_name(self, c, article_id):
        ents = c.result("article.get", id=article_id).get("entities") or []
        names = [e["name"] for e in ents if "brandvik" in e["name"].lower()]
        self.assertTrue(names, ents)
        return names[0]

    def assert_counts(self, c, stored_ids):
        name = self.entity_name(c, stored_ids[0])
        ent = c.result("entity.get", name=name)
        self.assertEqual(ent["articles"], len(stored_ids), ent)
        # every event of a stored article is listed (up to the reply's bound)
        events = {c.result("article.get", id=i)["event"] for i in stored_ids[::25]}
        listed = {e["id"] for e in ent["events"]}
        if len(listed) < 50:
            self.assertLessEqual(events, listed)
        for town in TOWNS:
            t = c.result("entity.get", name=town)
            self.assertEqual(t["articles"], sum(1 for i in stored_ids
                                                if TOWNS[int(i[-4:]) % len(TOWNS)] == town), t)

    def test_1_backlog_then_counts(self):
        c = self.cluster("elog")
        c.paused_burst(article(i, "el") for i in range(400))
        # while behind, commits log their entity changes (the counter says
        # how many entity.get does not show yet)
        logged = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and c.stats()["articles"] < 400:
            logged = max(logged, c.stats()["counters"]["entity_logged"])
        self.assertGreater(logged, 0)
        stored = c.caught_up(WAITING)
        self.assertEqual(stored, 400)
        self.assertGreater(c.stats()["counters"]["commits"], 40)
        self.assert_counts(c, ["el-%04d" % i for i in range(400)])
        c.stop()
        harness.assert_verified(self, c.data_dir)

    def test_2_kill9_while_behind(self):
        c = self.cluster("elog-kill9")
        c.paused_burst(article(i, "ek") for i in range(1200))
        c.wait_for(lambda: 0 < c.stats()["articles"] < 1200, "the store working through it",
                   timeout=60, interval=0.05)
        c.kill9("store")
        c.start(("store",))
        stored = c.caught_up(WAITING)
        ids = [i for i in ("ek-%04d" % n for n in range(1200))
               if c.ask("article.get", id=i).get("ok")]
        self.assertEqual(len(ids), stored)
        self.assert_counts(c, ids)
        c.stop()
        harness.assert_verified(self, c.data_dir)


if __name__ == "__main__":
    harness.main()
