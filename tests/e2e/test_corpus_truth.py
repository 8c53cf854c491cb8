"""What a reader of the sample corpus would check first, against the ground
truth in tests/corpus/truth.json: boilerplate is taken out of the text,
relative dates resolve against the publication time, language is detected
when not given, background figures are told apart, and happenings a year
apart never share an event.

The grouping of truth.json (which articles form one event) is scored by
the evaluation scripts rather than asserted here."""

import json
import time
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TRUTH = os.path.join(harness.SOURCE_DIR, "tests", "corpus", "truth.json")


class CorpusTruthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(TRUTH, encoding="utf-8") as f:
            cls.truth = json.load(f)
        cls.corpus = {a["id"]: a for a in harness.load_corpus()}
        cls.c = harness.Cluster("corpus-truth").start()
        for a in cls.corpus.values():
            ack = cls.c.submit(a)
            assert ack.get("ok") is True, ack
        cls.got = {aid: cls.c.result("article.get", id=aid) for aid in cls.corpus}

    def test_boilerplate_removed(self):
        """Credits, promotion, bios and copyright lines of English articles
        are out of the cleaned body and listed as removed passages."""
        for b in self.truth["boilerplate"]:
            art = self.got[b["article"]]
            if self.corpus[b["article"]].get("lang", "en") != "en":
                continue
            with self.subTest(article=b["article"], line=b["text_starts"]):
                self.assertNotIn(b["text_starts"], art["body"])
                self.assertTrue(any(b["text_starts"] in p for p in art.get("boilerplate", [])),
                                art.get("boilerplate"))

    def test_story_text_kept(self):
        """Cleaning removes boilerplate, not the news: the lead sentence of
        every article is still in its body."""
        for aid, a in self.corpus.items():
            with self.subTest(article=aid):
                paras = [p for p in a["body"].split("\n\n") if p.strip()]
                lead = paras[1] if "title" not in a and len(paras) > 1 else paras[0]
                first_sentence = lead.split(". ")[0]
                self.assertIn(first_sentence, self.got[aid]["body"])

    def test_relative_dates(self):
        for r in self.truth["relative_dates"]:
            with self.subTest(article=r["article"], text=r["text"]):
                dates = self.got[r["article"]].get("dates") or []
                found = [d for d in dates if d["text"].lower() == r["text"].lower()]
                if not found and r.get("optional"):
                    continue
                self.assertTrue(found, "%r not reported in %r" % (r["text"], dates))
                self.assertTrue(all(d["date"] == r["date"] for d in found), found)

    def test_event_dates(self):
        """An article's event date is the day of its happening; a piece
        published on a later day (a follow-up, an analysis) may also give
        its own publication day, but no other."""
        for ev in self.truth["events"]:
            for aid in ev["articles"]:
                with self.subTest(article=aid):
                    got = self.got[aid].get("event_date")
                    if got is None:
                        continue
                    published = self.corpus[aid]["published_at"]
                    day = time.strftime("%Y-%m-%d", time.gmtime(published / 1000))
                    self.assertIn(got, {ev["event_date"], max(day, ev["event_date"])})

    def test_language(self):
        langs = self.truth["languages"]
        for aid in langs["unset"]:
            self.assertEqual(self.got[aid]["lang"], "en")
        for code in ("de", "fr"):
            for aid in langs[code]:
                self.assertEqual(self.got[aid]["lang"], code)

    def test_background_figures(self):
        """A past war's death toll is marked as background, not counted as a
        figure of the reported happening."""
        for cl in self.truth["claims"]:
            if not cl.get("background"):
                continue
            with self.subTest(article=cl["article"], count=cl["count"]):
                claims = [c for c in self.got[cl["article"]].get("claims") or []
                          if c.get("count") == cl["count"]]
                self.assertTrue(claims, "figure %d not found" % cl["count"])
                self.assertTrue(all(c.get("background") is True for c in claims), claims)

    def test_separate_happenings_stay_apart(self):
        for a, b in self.truth["never_same_event"]:
            with self.subTest(pair=(a, b)):
                self.assertNotEqual(self.got[a]["event"], self.got[b]["event"])


if __name__ == "__main__":
    harness.main()
