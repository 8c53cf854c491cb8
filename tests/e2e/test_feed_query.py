"""Feed the sample corpus through both doors (PUSH feed and acknowledged
submit) and read it back through the query daemon."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class FeedQueryTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.corpus = harness.load_corpus()
        cls.by_id = {a["id"]: a for a in cls.corpus}
        cls.c = harness.Cluster("feed-query").start()
        # Every other article through the acknowledged door, the rest
        # through the fire-and-forget feed.
        cls.acked = cls.corpus[0::2]
        cls.pushed = cls.corpus[1::2]
        cls.acks = {}
        for a in cls.pushed:
            cls.c.push(a)
        for a in cls.acked:
            cls.acks[a["id"]] = cls.c.submit(a)
        cls.c.wait_articles(len(cls.corpus))

    def test_01_acks(self):
        """Every acknowledged submission answers ok/stored with an id and an
        event."""
        for aid, ack in self.acks.items():
            with self.subTest(article=aid):
                self.assertIs(ack.get("ok"), True, ack)
                self.assertEqual(ack.get("status"), "stored", ack)
                self.assertEqual(ack.get("id"), aid, ack)
                self.assertIsInstance(ack.get("event"), str, ack)
                self.assertTrue(ack["event"], ack)

    def test_02_read_back(self):
        """Each article reads back with its submitted fields intact, linked to
        an event and a story that list it."""
        events = {}
        for a in self.corpus:
            with self.subTest(article=a["id"]):
                got = self.c.result("article.get", id=a["id"])
                self.assertEqual(got["id"], a["id"])
                self.assertEqual(got.get("source"), a["source"])
                self.assertEqual(got.get("url"), a["url"])
                self.assertEqual(got["published_at"], a["published_at"])
                self.assertIsInstance(got["published_at"], int)
                if "title" in a:
                    self.assertEqual(got.get("title"), a["title"])
                else:
                    # No title given: the body's headline line (or something)
                    # must stand in; never an empty title.
                    self.assertIsInstance(got.get("title"), str)
                    self.assertTrue(got["title"].strip())
                if "lang" in a:
                    self.assertEqual(got.get("lang"), a["lang"])
                self.assertEqual(got.get("meta"), a["meta"])
                self.assertIsInstance(got.get("body"), str)
                self.assertTrue(got["body"].strip())
                self.assertIsInstance(got.get("ingested_at"), int)
                self.assertTrue(got.get("event"))
                self.assertTrue(got.get("story"))
                if a["id"] in self.acks:
                    self.assertEqual(got["event"], self.acks[a["id"]]["event"])
                events.setdefault(got["event"], []).append(a["id"])
        for eid, members in events.items():
            with self.subTest(event=eid):
                ev = self.c.result("event.get", id=eid)
                self.assertEqual(ev["id"], eid)
                for aid in members:
                    self.assertIn(aid, ev["article_ids"])
                self.assertEqual(ev["articles"], len(ev["article_ids"]))
                self.assertGreaterEqual(ev["sources"], 1)
                self.assertLessEqual(ev["first_seen"], ev["last_seen"])

    def test_03_resubmit_unchanged(self):
        a = self.acked[0]
        first = self.acks[a["id"]]
        again = self.c.submit(a)
        self.assertIs(again.get("ok"), True, again)
        self.assertEqual(again.get("status"), "unchanged", again)
        self.assertEqual(again.get("id"), a["id"])
        self.assertEqual(again.get("event"), first["event"])
        # Also for an article that came in through the feed.
        b = self.pushed[0]
        again = self.c.submit(b)
        self.assertEqual(again.get("status"), "unchanged", again)
        self.assertEqual(again.get("id"), b["id"])

    def test_04_changed_body_updates(self):
        before = self.c.stats()["articles"]
        a = dict(self.acked[1])
        marker = "Late on Thursday the Northern Council confirmed that monitors had been sent."
        a["body"] = a["body"] + "\n\n" + marker
        ack = self.c.submit(a)
        self.assertIs(ack.get("ok"), True, ack)
        self.assertEqual(ack.get("status"), "updated", ack)
        self.assertEqual(ack.get("id"), a["id"])
        got = self.c.result("article.get", id=a["id"])
        self.assertIn("monitors had been sent", got["body"])
        # An update is a new version, never a second article.
        self.assertEqual(self.c.stats()["articles"], before)
        # Submitting the update again is now unchanged.
        self.assertEqual(self.c.submit(a).get("status"), "unchanged")

    def test_05_stats(self):
        st = self.c.stats()
        self.assertEqual(st["articles"], len(self.corpus))
        self.assertGreaterEqual(st["events"], 1)
        self.assertLessEqual(st["events"], len(self.corpus))
        self.assertGreaterEqual(st["stories"], 1)
        self.assertLessEqual(st["stories"], st["events"])
        self.assertIsInstance(st["version"], str)
        self.assertGreater(st["db_bytes"], 0)
        self.assertGreaterEqual(st["uptime_s"], 0)
        # A bad frame on the feed is counted as a reject.
        rejects = st["rejects"]
        self.c.push(harness.pack({"type": "article", "body": ""}))
        self.c.wait_for(lambda: self.c.stats()["rejects"] == rejects + 1,
                        "stats.rejects to grow by one")
        self.assertEqual(self.c.stats()["articles"], len(self.corpus))

    def test_06_event_list_pages(self):
        """event.list pages with a cursor, without overlap or gaps, newest
        activity first."""
        total = self.c.stats()["events"]
        events, pages = self.c.list_all("event.list", "events", limit=4)
        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)), "pages overlap")
        self.assertEqual(len(ids), total)
        self.assertGreater(len(pages), 1)
        for page in pages[:-1]:
            self.assertEqual(len(page), 4)
        seen = [e["last_seen"] for e in events]
        self.assertEqual(seen, sorted(seen, reverse=True), "not newest activity first")
        linked = {self.c.result("article.get", id=a["id"])["event"] for a in self.corpus}
        self.assertEqual(set(ids), linked)
        # A limit past the maximum is capped or refused, never ignored.
        reply = self.c.ask("event.list", limit=100000)
        if reply.get("ok"):
            self.assertLessEqual(len(reply["result"]["events"]), 1000)
        else:
            self.assertEqual(reply["error"]["code"], "bad_request")

    def test_07_story_get(self):
        got = self.c.result("article.get", id=self.corpus[0]["id"])
        story = self.c.result("story.get", id=got["story"])
        self.assertEqual(story["id"], got["story"])
        self.assertIn(got["event"], [e["id"] for e in story["events"]])

    def test_08_entity_get(self):
        ents = []
        for a in self.corpus[:6]:
            ents.extend(self.c.result("article.get", id=a["id"]).get("entities") or [])
        if not ents:
            self.skipTest("no entities extracted yet (text analysis not wired in)")
        ent = max(ents, key=lambda e: e["count"])
        res = self.c.result("entity.get", name=ent["name"])
        self.assertEqual(res["name"], ent["name"])
        self.assertGreaterEqual(res["articles"], 1)
        self.assertTrue(res["events"])
        holders = {self.c.result("article.get", id=a["id"])["event"]
                   for a in self.corpus[:6]
                   if any(e["name"] == ent["name"]
                          for e in self.c.result("article.get", id=a["id"]).get("entities") or [])}
        self.assertTrue(holders & {e["id"] for e in res["events"]})

    def test_09_not_found(self):
        for op, params in (("article.get", {"id": "no-such-article"}),
                           ("event.get", {"id": "no-such-event"}),
                           ("story.get", {"id": "no-such-story"}),
                           ("entity.get", {"name": "Nobody Anywhere Zzyzx"})):
            with self.subTest(op=op):
                reply = self.c.ask(op, **params)
                self.assertIs(reply.get("ok"), False, reply)
                self.assertEqual(reply["error"]["code"], "not_found", reply)
                self.assertIsInstance(reply["error"].get("message"), str)

    def test_10_bad_request(self):
        cases = [
            ("unknown op", harness.pack({"op": "no.such.op"})),
            ("article.get without id", harness.pack({"op": "article.get"})),
            ("event.get without id", harness.pack({"op": "event.get"})),
            ("id of the wrong type", harness.pack({"op": "article.get", "id": 42})),
            ("limit of the wrong type", harness.pack({"op": "event.list", "limit": "ten"})),
            ("not a map", harness.pack(["article.get", "x"])),
            ("not msgpack", b"\xc1\xc1\xc1 hello"),
        ]
        for what, frame in cases:
            with self.subTest(case=what):
                reply = harness.unpack(self.c.request(self.c.query_ep, frame))
                self.assertIs(reply.get("ok"), False, reply)
                self.assertEqual(reply["error"]["code"], "bad_request", reply)
                self.assertTrue(reply["error"].get("message"))
        self.c.assert_alive()
        self.assertIs(self.c.ask("ping")["ok"], True)

    def test_11_ping(self):
        res = self.c.result("ping")
        self.assertIsInstance(res["version"], str)
        self.assertTrue(res["version"])


if __name__ == "__main__":
    harness.main()
