"""The five reference articles of ../shared/data/seeds, submitted over the
acknowledged door with the metadata of their manifest, are stored, read
back intact with a real event link, and survive a restart of every daemon.

The texts are read at run time only; they are not part of this project.
Skipped (exit 77) when the seeds directory does not exist."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SEEDS = os.path.normpath(os.path.join(harness.SOURCE_DIR, "..", "shared", "data", "seeds"))
MANIFEST = os.path.join(SEEDS, "manifest.json")


def load_seeds():
    with open(MANIFEST, encoding="utf-8") as f:
        manifest = json.load(f)
    out = []
    for m in manifest["articles"]:
        with open(os.path.join(SEEDS, m["file"]), encoding="utf-8") as f:
            body = f.read()
        sub = {"type": "article", "id": m["id"], "url": m["url"], "source": m["source"],
               "title": m.get("title"), "body": body, "published_at": m["published_at"]}
        out.append(harness.to_wire(sub))   # ms times; title null -> absent
    return out


@unittest.skipUnless(os.path.isfile(MANIFEST), "no seeds at %s" % SEEDS)
class SeedsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.seeds = load_seeds()
        cls.c = harness.Cluster("seeds").start()
        cls.acks = {s["id"]: cls.c.submit(s) for s in cls.seeds}

    def check_read_back(self):
        for s in self.seeds:
            with self.subTest(seed=s["id"]):
                got = self.c.result("article.get", id=s["id"])
                self.assertEqual(got["id"], s["id"])
                self.assertEqual(got.get("source"), s["source"])
                self.assertEqual(got.get("url"), s["url"])
                self.assertEqual(got["published_at"], s["published_at"])
                if "title" in s:
                    self.assertEqual(got.get("title"), s["title"])
                else:
                    self.assertIsInstance(got.get("title"), str)
                    self.assertTrue(got["title"].strip())
                self.assertTrue(got.get("body", "").strip())
                self.assertEqual(got.get("event"), self.acks[s["id"]]["event"])
                ev = self.c.result("event.get", id=got["event"])
                self.assertEqual(ev["id"], got["event"])
                self.assertIn(s["id"], ev["article_ids"])
        self.assertEqual(self.c.stats()["articles"], len(self.seeds))

    def test_1_stored(self):
        self.assertEqual(len(self.seeds), 5)
        for s in self.seeds:
            with self.subTest(seed=s["id"]):
                ack = self.acks[s["id"]]
                self.assertIs(ack.get("ok"), True, ack)
                self.assertEqual(ack.get("status"), "stored", ack)
                self.assertEqual(ack.get("id"), s["id"])
                self.assertTrue(ack.get("event"))

    def test_2_title_of_seed_004(self):
        s = [s for s in self.seeds if s["id"] == "seed-004"][0]
        self.assertEqual(self.c.result("article.get", id="seed-004")["title"], s["title"])

    def test_3_resubmit_unchanged(self):
        s = self.seeds[2]
        ack = self.c.submit(s)
        self.assertIs(ack.get("ok"), True, ack)
        self.assertEqual(ack.get("status"), "unchanged", ack)
        self.assertEqual(ack.get("id"), s["id"])
        self.assertEqual(ack.get("event"), self.acks[s["id"]]["event"])

    def test_4_read_back(self):
        self.check_read_back()

    def test_5_survives_restart(self):
        before = {s["id"]: self.c.result("article.get", id=s["id"]) for s in self.seeds}
        self.c.stop()      # every daemon exits 0 on SIGTERM
        self.c.start()
        self.check_read_back()
        after = {s["id"]: self.c.result("article.get", id=s["id"]) for s in self.seeds}
        self.assertEqual(after, before)
        ack = self.c.submit(self.seeds[0])
        self.assertEqual(ack.get("status"), "unchanged", ack)


if __name__ == "__main__":
    harness.main()
