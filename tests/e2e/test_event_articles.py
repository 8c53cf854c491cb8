"""Large and merged events through the real daemons: an event with more
articles than its record embeds still lists all of them in event.get (and
in the search filter on the event), and two events that a later article
shows to be one happening are merged, so that every article's event exists
and lists it, and the merged-away id answers with the event it went into
(docs/events.md)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

T0 = 1767225600000  # 2026-01-01
N = 300


def art(aid, title, t, source):
    return {"type": "article", "id": aid, "title": title, "body": title,
            "published_at": t, "source": source, "lang": "en"}


class EventArticlesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster("event-articles").start()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def submit(self, a):
        ack = self.c.submit(a)
        self.assertIs(ack.get("ok"), True, ack)

    def test_large_event_lists_all_articles(self):
        for i in range(N):
            self.submit(art("flood-%d" % i,
                            "Valmora delta flood update %d: Kestrel villages evacuated" % i,
                            T0 + i * 10000, "Wire %d" % (i % 7)))
        ev = self.c.result("article.get", id="flood-0")["event"]
        self.assertEqual(self.c.result("article.get", id="flood-%d" % (N - 1))["event"], ev)
        e = self.c.result("event.get", id=ev)
        self.assertEqual(e["articles"], N)
        self.assertEqual(len(e["article_ids"]), N)
        self.assertEqual(set(e["article_ids"]), {"flood-%d" % i for i in range(N)})

    def test_bridged_events_merge(self):
        t = T0 + 30 * 86400000
        self.submit(art("m-a1", "Wildfire spreads across the Orvell hills", t, "Wire"))
        self.submit(art("m-b1", "Residents of Tamsin told to leave their homes", t + 60000,
                        "Post"))
        before = {self.c.result("article.get", id=a)["event"] for a in ("m-a1", "m-b1")}
        self.assertEqual(len(before), 2, before)
        self.submit(art("m-b2", "Tamsin residents leave homes as the Orvell hills wildfire "
                        "spreads", t + 120000, "Daily"))
        self.submit(art("m-c1", "Orvell hills wildfire forces Tamsin residents from homes",
                        t + 180000, "Times"))
        got = {a: self.c.result("article.get", id=a) for a in ("m-a1", "m-b1", "m-b2", "m-c1")}
        events = {g["event"] for g in got.values()}
        self.assertEqual(len(events), 1, events)
        e = self.c.result("event.get", id=events.pop())
        self.assertEqual(sorted(e["article_ids"]), sorted(got))
        self.assertEqual(e["articles"], 4)
        # the event merged away answers with the one it went into
        for old in before:
            self.assertEqual(self.c.result("event.get", id=old)["id"], e["id"])
        err = self.c.ask("event.get", id="no-such-event")
        self.assertEqual(err["error"]["code"], "not_found", err)
        # the story lists only events that exist
        s = self.c.result("story.get", id=e["story"])
        self.assertIn(e["id"], [x["id"] for x in s["events"]])


if __name__ == "__main__":
    harness.main()
