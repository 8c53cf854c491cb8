"""Hostile and malformed frames on both submission doors: each gets a clear
error (acked door) or a recorded rejection (feed), and no daemon dies."""

import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

pack = harness.pack


def mp_str(raw):
    """msgpack str header + raw bytes, which may be invalid UTF-8 (the
    Python packer refuses to produce such a frame)."""
    n = len(raw)
    if n < 32:
        head = bytes([0xa0 | n])
    elif n < 256:
        head = b"\xd9" + bytes([n])
    elif n < 65536:
        head = b"\xda" + struct.pack(">H", n)
    else:
        head = b"\xdb" + struct.pack(">I", n)
    return head + raw


def mp_map(pairs):
    """A msgpack map from (key, already-encoded value) pairs, keys in order."""
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(pack(k) + v for k, v in pairs)


def article_with(case, **fields):
    """A submission map whose first key is `case`, so that the first bytes of
    every bad frame differ and its reject record can be told apart."""
    m = {"case": case}
    m.update(fields)
    return pack(m)


DEEP = 100000  # levels of nesting in the deepest frame


def bad_frames():
    """(name, frame, codes) for every malformed submission; codes are the
    acceptable error codes."""
    BR = ("bad_request",)
    BR_TL = ("bad_request", "too_large")
    ok_fields = [("type", pack("article"))]
    return [
        ("not msgpack", b"\xc1\xc1 this is not msgpack at all", BR),
        ("http request", b"GET / HTTP/1.1\r\nHost: tidings\r\n\r\n", BR),
        ("truncated msgpack", pack({"case": "truncated", "type": "article",
                                    "body": "The frame ends in the middle of this body."})[:-12], BR),
        ("array, not a map", pack(["article", "body", "An array is not a submission."]), BR),
        ("string, not a map", pack("a lone string is not a submission"), BR),
        ("integer keys", pack({1: "case-int-keys", 2: "article"}), BR),
        ("body as int", article_with("body-int", type="article", body=42), BR),
        ("title as int", article_with("title-int", type="article", body="Text.", title=7), BR),
        ("published_at as string", article_with("time-str", type="article", body="Text.",
                                                published_at="yesterday"), BR),
        ("meta value as int", article_with("meta-int", type="article", body="Text.",
                                           meta={"section": 5}), BR),
        ("missing body", article_with("no-body", type="article", title="A title only"), BR),
        ("empty body", article_with("empty-body", type="article", body=""), BR),
        ("unknown type", article_with("bad-type", type="comment", body="Not an article."), BR),
        ("id longer than 512 bytes", article_with("long-id", type="article", body="Text.",
                                                  id="x" * 600), BR),
        ("overlong UTF-8 in body", mp_map([("case", pack("utf8-overlong"))] + ok_fields +
                                          [("body", mp_str(b"Border clash \xc0\xaf near Tarsk."))]), BR),
        ("UTF-16 surrogate in body", mp_map([("case", pack("utf8-surrogate"))] + ok_fields +
                                            [("body", mp_str(b"Border clash \xed\xa0\x80 near Tarsk."))]), BR),
        ("invalid UTF-8 in title", mp_map([("case", pack("utf8-title"))] + ok_fields +
                                          [("title", mp_str(b"\xff\xfe bad title")),
                                           ("body", pack("A fine body."))]), BR),
        ("nesting 10 deep", mp_map([("case", pack("deep-10"))] + ok_fields +
                                   [("body", pack("Text.")), ("x", b"\x91" * 10 + b"\xc0")]), BR_TL),
        ("nesting %d deep" % DEEP, mp_map([("case", pack("deep-huge"))] + ok_fields +
                                          [("body", pack("Text.")), ("x", b"\x91" * DEEP + b"\xc0")]), BR_TL),
        ("string header claiming 4 GiB", mp_map([("case", pack("str-4g"))] + ok_fields +
                                                [("body", b"\xdb\xff\xff\xff\xf0" + b"short")]), BR_TL),
        ("map header claiming 4 billion entries", b"\xdf\xff\xff\xff\xff" + pack("case") + pack("map-4g"), BR_TL),
        ("array header claiming 4 billion elements", mp_map([("case", pack("arr-4g"))] + ok_fields +
                                                            [("body", pack("Text.")), ("x", b"\xdd\xff\xff\xff\xff\xc0")]), BR_TL),
    ]


def oversize_frame(times=1):
    """A valid-looking submission just over `times` x 4 MiB."""
    body = "Word " * ((harness.MAX_FRAME * times + 4096) // 5)
    return article_with("oversize-%d" % times, type="article", body=body)


class MalformedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.corpus = harness.load_corpus()
        cls.c = harness.Cluster("malformed").start()

    def assert_still_serving(self, tag):
        """All daemons alive, and a valid article goes in through both doors
        and reads back."""
        self.c.assert_alive()
        a = dict(self.corpus[0], id="valid-after-" + tag, url="https://example.test/" + tag)
        ack = self.c.submit(a)
        self.assertIs(ack.get("ok"), True, ack)
        self.assertEqual(ack.get("status"), "stored", ack)
        b = dict(self.corpus[1], id="pushed-after-" + tag, url="https://example.test/p/" + tag)
        self.c.push(b, fresh=True)
        got = self.c.wait_for(lambda: self._get(b["id"]), "pushed article after " + tag)
        self.assertEqual(got["source"], b["source"])
        self.assertEqual(self.c.result("article.get", id=a["id"])["title"], a["title"])

    def _get(self, aid):
        reply = self.c.ask("article.get", id=aid)
        return reply["result"] if reply.get("ok") else None

    def all_rejects(self):
        rejects, _ = self.c.list_all("rejects.list", "rejects", limit=50)
        return rejects

    def test_1_feed(self):
        """Each bad frame on the PUSH feed shows up in rejects.list with a
        code and the frame's first bytes; stats.rejects grows by as many."""
        frames = bad_frames()
        before = self.c.stats()["rejects"]
        known = len(self.all_rejects())
        for _, frame, _ in frames:
            self.c.push(frame)
        self.c.wait_for(lambda: self.c.stats()["rejects"] >= before + len(frames),
                        "%d rejects to be counted" % len(frames))
        rejects = self.all_rejects()
        self.assertEqual(len(rejects), known + len(frames))
        for name, frame, codes in frames:
            with self.subTest(frame=name):
                matches = [r for r in rejects
                           if isinstance(r.get("bytes"), bytes) and r["bytes"]
                           and frame.startswith(r["bytes"])
                           and len(r["bytes"]) >= min(len(frame), 16)]
                self.assertEqual(len(matches), 1,
                                 "expected one reject starting with %r" % frame[:24])
                r = matches[0]
                self.assertIn(r["code"], codes)
                self.assertIsInstance(r.get("message"), str)
                self.assertTrue(r["message"])
                self.assertIsInstance(r.get("at"), int)
                self.assertLessEqual(abs(r["at"] / 1000.0 - time.time()), 600)
        self.assertEqual(self.c.stats()["rejects"], before + len(frames))
        self.assertEqual(self.c.stats()["articles"], 0)
        self.assert_still_serving("feed")

    def test_2_feed_oversize(self):
        """A frame just over 4 MiB on the feed is recorded as too_large; a far
        bigger one may instead be dropped with its connection (ZMQ_MAXMSGSIZE).
        Nothing is stored and the feed keeps working for new connections."""
        before = self.c.stats()
        frame = oversize_frame()
        self.assertGreater(len(frame), harness.MAX_FRAME)
        self.c.push(frame, fresh=True)
        self.c.wait_for(lambda: self.c.stats()["rejects"] == before["rejects"] + 1,
                        "the oversize frame to be rejected")
        newest = [r for r in self.all_rejects() if frame.startswith(r["bytes"])]
        self.assertEqual(len(newest), 1)
        self.assertEqual(newest[0]["code"], "too_large")

        huge = oversize_frame(4)
        self.c.push(huge, fresh=True)
        time.sleep(1.0)
        after = self.c.stats()
        self.assertIn(after["rejects"] - before["rejects"], (1, 2))
        self.assertEqual(after["articles"], before["articles"])
        self.assert_still_serving("feed-oversize")

    def test_3_acked(self):
        """The same frames on the acknowledged door get ok:false with
        bad_request (or too_large), and nothing is stored."""
        articles = self.c.stats()["articles"]
        for name, frame, codes in bad_frames():
            with self.subTest(frame=name):
                reply = harness.unpack(self.c.request(self.c.submit_ep, frame))
                self.assertIs(reply.get("ok"), False, reply)
                self.assertIn(reply["error"]["code"], codes, reply)
                self.assertIsInstance(reply["error"].get("message"), str)
                self.assertTrue(reply["error"]["message"])
        self.assertEqual(self.c.stats()["articles"], articles)
        self.assert_still_serving("acked")

    def test_4_acked_oversize(self):
        """Just over 4 MiB on the acknowledged door: too_large. Far over it the
        socket limit may drop the connection instead (no reply); either way
        the daemon survives and the next connection works."""
        reply = harness.unpack(self.c.request(self.c.submit_ep, oversize_frame()))
        self.assertIs(reply.get("ok"), False, reply)
        self.assertEqual(reply["error"]["code"], "too_large", reply)
        try:
            reply = harness.unpack(self.c.request(self.c.submit_ep, oversize_frame(4),
                                                  timeout=5.0))
        except TimeoutError:
            reply = None
        if reply is not None:
            self.assertIs(reply.get("ok"), False, reply)
            self.assertEqual(reply["error"]["code"], "too_large", reply)
        self.assert_still_serving("acked-oversize")

    def test_5_query_door(self):
        """The query daemon survives the same hostile frames."""
        for name, frame, _ in bad_frames():
            with self.subTest(frame=name):
                reply = harness.unpack(self.c.request(self.c.query_ep, frame))
                self.assertIs(reply.get("ok"), False, reply)
                self.assertIn(reply["error"]["code"], ("bad_request", "too_large"), reply)
        self.c.assert_alive()
        self.assertIs(self.c.ask("ping")["ok"], True)


if __name__ == "__main__":
    harness.main()
