"""CURVE and ZAP (docs/security.md): with the daemons' sockets encrypted and
guarded by allow-lists, an allowed producer submits and feeds, an allowed
reader queries and receives notifications; an unknown key, a plaintext
client and a producer key on the readers' sockets (and the reverse) get
nothing, and the daemons stay up and log the refusals. The keys come from
`tidings keygen`, and the CLI takes them too.

A refused client sees no error from ZeroMQ, only silence: those checks wait
a short, bounded time for a reply that must not come.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import zmq  # noqa: E402

REFUSED_WAIT = 2.0   # seconds a refused request waits for the reply that never comes
CLI = os.path.join(harness.BUILD_DIR, "client", "tidings")


def keygen(prefix):
    """`tidings keygen --out prefix`; returns (public, secret) z85 strings."""
    out = subprocess.run([CLI, "keygen", "--out", prefix], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise AssertionError("tidings keygen failed: %s" % out.stderr)
    mode = os.stat(prefix + ".key").st_mode & 0o777
    if mode & 0o077:
        raise AssertionError("%s.key has mode %o, not private" % (prefix, mode))

    def key(path):
        lines = [l.strip() for l in open(path) if l.strip() and not l.startswith("# ")]
        assert len(lines) == 1 and len(lines[0]) == 40, (path, lines)
        return lines[0]
    return key(prefix + ".pub"), key(prefix + ".key")


def article(n):
    return {"type": "article", "id": "curve-%d" % n, "source": "curve.example",
            "title": "Harbour authority opens the new pier %d" % n,
            "body": ("The harbour authority opened the new pier on Tuesday after two years "
                     "of work, officials said. Ships of up to 300 metres can now berth "
                     "there, the authority said in a statement. (%d)" % n),
            "published_at": 1700000000000 + n * 1000}


@unittest.skipUnless(zmq.has("curve"), "this libzmq has no CURVE")
class CurveTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(CLI, os.X_OK):
            raise harness.DaemonError("the CLI is not built: %s" % CLI)
        cls.keys_dir = tempfile.mkdtemp(prefix="tidings-e2e-curve-keys-")
        k = lambda name: os.path.join(cls.keys_dir, name)
        cls.server = keygen(k("server"))
        cls.producer = keygen(k("producer"))
        cls.reader = keygen(k("reader"))
        cls.stranger = keygen(k("stranger"))
        os.mkdir(k("producers"))
        os.mkdir(k("readers"))
        os.rename(k("producer.pub"), k("producers/producer.pub"))
        os.rename(k("reader.pub"), k("readers/reader.pub"))
        with open(k("readers/broken.pub"), "w") as f:   # skipped with a warning
            f.write("not a key\n")
        secret = ["--curve-secret", k("server.key")]
        cls.c = harness.Cluster("curve", extra={
            "store": secret + ["--curve-readers", k("readers")],
            "ingest": secret + ["--curve-producers", k("producers")],
            "query": secret + ["--curve-readers", k("readers")],
        }, curve=cls.as_client(cls.reader))
        cls.c.start()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keys_dir, ignore_errors=True)

    @classmethod
    def as_client(cls, pair):
        return {"server": cls.server[0], "public": pair[0], "secret": pair[1]}

    def assert_refused(self, call):
        with self.assertRaises(TimeoutError):
            call()
        self.c.assert_alive()

    def cli(self, *args, pair=None, timeout=None):
        cmd = [CLI] + list(args) + [
            "--submit", self.c.submit_ep, "--feed", self.c.feed_ep,
            "--query", self.c.query_ep, "--publish", self.c.publish_ep]
        if pair:
            cmd += ["--server-key", os.path.join(self.keys_dir, "server.pub"),
                    "--client-key", os.path.join(self.keys_dir, pair + ".key")]
        if timeout:
            cmd += ["--timeout", str(timeout), "--retries", "0"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    # ------------------------------------------------------------ allowed

    def test_1_allowed_clients(self):
        producer, reader = self.as_client(self.producer), self.as_client(self.reader)
        sub = self.c.subscribe(b"article.stored", curve=reader)
        try:
            time.sleep(0.5)   # PUB drops what is sent before the subscription arrives
            ack = self.c.submit(article(1), curve=producer)
            self.assertEqual(ack.get("status"), "stored", ack)
            got = harness.receive(sub, lambda g: any(m and m.get("id") == "curve-1"
                                                     for _, m in g))
            self.assertTrue(any(m and m.get("id") == "curve-1" for _, m in got),
                            "no article.stored notification over CURVE: %r" % got)
        finally:
            sub.close(0)
        reply = self.c.ask("article.get", id="curve-1", curve=reader)
        self.assertTrue(reply.get("ok"), reply)
        self.assertEqual(reply["result"]["id"], "curve-1")

        # the feed (PULL 7401) is in the producers' domain too
        push = self.c._socket(zmq.PUSH, self.c.feed_ep, harness.REPLY_TIMEOUT, producer)
        try:
            push.send(harness.pack(article(2)))
            self.c.wait_for(lambda: self.c.ask("article.get", id="curve-2").get("ok"),
                            "the fed article curve-2 to be stored")
        finally:
            push.close(0)

    # ------------------------------------------------------------ refused

    def test_2_unknown_key_refused(self):
        stranger = self.as_client(self.stranger)
        self.assert_refused(lambda: self.c.submit(article(3), timeout=REFUSED_WAIT,
                                                  curve=stranger))
        self.assert_refused(lambda: self.c.ask("ping", timeout=REFUSED_WAIT, curve=stranger))
        # a client that knows a wrong server key is refused as well
        wrong_server = {"server": self.stranger[0], "public": self.reader[0],
                        "secret": self.reader[1]}
        self.assert_refused(lambda: self.c.ask("ping", timeout=REFUSED_WAIT,
                                               curve=wrong_server))

    def test_3_plaintext_refused(self):
        self.assert_refused(lambda: self.c.submit(article(4), timeout=REFUSED_WAIT,
                                                  curve=False))
        self.assert_refused(lambda: self.c.ask("ping", timeout=REFUSED_WAIT, curve=False))
        # a plaintext subscriber hears nothing while an allowed producer submits
        sub = self.c.subscribe(b"", timeout=REFUSED_WAIT, curve=False)
        try:
            time.sleep(0.5)
            ack = self.c.submit(article(5), curve=self.as_client(self.producer))
            self.assertEqual(ack.get("status"), "stored", ack)
            got = harness.receive(sub, lambda g: bool(g), timeout=REFUSED_WAIT)
            self.assertEqual(got, [], "a plaintext subscriber got notifications")
        finally:
            sub.close(0)
        self.c.assert_alive()

    def test_4_wrong_domain_refused(self):
        # a producer key is not a reader key, and the reverse
        producer, reader = self.as_client(self.producer), self.as_client(self.reader)
        self.assert_refused(lambda: self.c.ask("ping", timeout=REFUSED_WAIT, curve=producer))
        self.assert_refused(lambda: self.c.submit(article(6), timeout=REFUSED_WAIT,
                                                  curve=reader))
        sub = self.c.subscribe(b"", timeout=REFUSED_WAIT, curve=producer)
        try:
            time.sleep(0.5)
            ack = self.c.submit(article(7), curve=producer)
            self.assertEqual(ack.get("status"), "stored", ack)
            got = harness.receive(sub, lambda g: bool(g), timeout=REFUSED_WAIT)
            self.assertEqual(got, [], "a producer key subscribed to the readers' PUB")
        finally:
            sub.close(0)
        # the refused submission was never stored
        self.assertEqual(self.c.ask("article.get", id="curve-6").get("ok"), False)

    def test_5_refusals_logged_daemons_up(self):
        self.c.assert_alive()
        self.assertIn("refused", self.c.daemons["ingest"].log())
        self.assertIn("refused", self.c.daemons["query"].log())
        self.assertIn("broken.pub", self.c.daemons["query"].log())
        self.assertTrue(self.c.ask("ping").get("ok"))

    # ------------------------------------------------------------ the CLI

    def test_6_cli(self):
        path = os.path.join(self.c.tmp, "cli.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps(article(8)) + "\n")
        out = self.cli("feed", "--acked", path, pair="producer")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.cli("get", "article", "curve-8", "--json", pair="reader")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("curve-8", out.stdout)
        # environment variables work like the flags
        env = dict(os.environ, TIDINGS_SERVER_KEY=os.path.join(self.keys_dir, "server.pub"),
                   TIDINGS_CLIENT_KEY=os.path.join(self.keys_dir, "reader.key"))
        out = subprocess.run([CLI, "ping", "--query", self.c.query_ep], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        # without keys, or with the wrong ones: a clear failure, not a hang
        out = self.cli("ping", timeout=1000)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no answer", out.stderr)
        out = self.cli("ping", pair="producer", timeout=1000)
        self.assertEqual(out.returncode, 1)
        self.assertIn("allow this client's key", out.stderr)
        # half a key pair is a usage error
        out = subprocess.run([CLI, "ping", "--query", self.c.query_ep, "--server-key",
                              os.path.join(self.keys_dir, "server.pub")],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("--client-key", out.stderr)

    def test_7_bad_daemon_config(self):
        q = harness.binary("tidings-query")
        port = harness.free_ports(1)[0]
        base = [q, "--data", os.path.join(self.c.tmp, "x"), "--query",
                "tcp://127.0.0.1:%d" % port]
        cases = [
            (["--curve-secret", os.path.join(self.keys_dir, "server.key")], "--curve-readers"),
            (["--curve-readers", os.path.join(self.keys_dir, "readers")], "--curve-secret"),
            (["--curve-secret", os.path.join(self.keys_dir, "nope.key"),
              "--curve-readers", os.path.join(self.keys_dir, "readers")], "nope.key"),
            (["--curve-secret", os.path.join(self.keys_dir, "server.key"),
              "--curve-readers", os.path.join(self.keys_dir, "missing-dir")], "missing-dir"),
        ]
        for args, word in cases:
            with self.subTest(args=args):
                out = subprocess.run(base + args, capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 2, out.stderr)
                self.assertIn(word, out.stderr)

    def test_8_sighup_reloads_allow_list(self):
        # the stranger becomes a producer: its .pub goes in, SIGHUP, and it
        # gets through (the handler rereads within its poll interval)
        shutil.copy(os.path.join(self.keys_dir, "stranger.pub"),
                    os.path.join(self.keys_dir, "producers", "stranger.pub"))
        self.c.daemons["ingest"].proc.send_signal(signal.SIGHUP)
        stranger = self.as_client(self.stranger)

        def admitted():
            try:
                return self.c.submit(article(9), timeout=1.0, curve=stranger)
            except TimeoutError:
                return None
        ack = self.c.wait_for(admitted, "the stranger's key to be admitted after SIGHUP")
        self.assertEqual(ack.get("status"), "stored", ack)
        self.assertIn("reloaded", self.c.daemons["ingest"].log())
        # and removing it revokes it for new connections
        os.unlink(os.path.join(self.keys_dir, "producers", "stranger.pub"))
        self.c.daemons["ingest"].proc.send_signal(signal.SIGHUP)

        def refused():
            try:
                self.c.submit(article(10), timeout=1.0, curve=stranger)
                return False
            except TimeoutError:
                return True
        self.c.wait_for(refused, "the stranger's key to be refused again after SIGHUP")
        self.c.assert_alive()


if __name__ == "__main__":
    harness.main()
