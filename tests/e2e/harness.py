"""Shared helpers for the tidings end-to-end tests.

A `Cluster` starts the three real daemons from the build tree on free
loopback ports and a temporary data directory, speaks the wire protocol of
docs/protocol.md to them, and stops them again. Every socket has a timeout
and LINGER 0, so a test fails instead of hanging when a daemon does not
answer.

Environment:
  TD_BUILD_DIR   the CMake build tree (default: $TD_SOURCE_DIR/build)
  TD_SOURCE_DIR  the source tree (default: two levels above this file)
  TD_E2E_KEEP    if set, keep temporary data directories and logs

Run a test file directly (`python3 tests/e2e/test_x.py`) or through ctest.
Exit status: 0 passed, 1 failed, 77 skipped.
"""

import atexit
import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import msgpack
    import zmq
except ImportError as exc:  # pragma: no cover - depends on the machine
    print("skipped: python3-zmq and python3-msgpack are needed (%s)" % exc)
    sys.exit(77)

SKIP = 77

SOURCE_DIR = os.environ.get("TD_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("TD_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
CORPUS = os.path.join(SOURCE_DIR, "tests", "corpus", "sample.jsonl")

MAX_FRAME = 4 << 20

# Seconds. Generous for slow CI machines and sanitizer builds, but every wait
# is bounded.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
REPLY_TIMEOUT = 15.0

_ctx = zmq.Context.instance()
_clusters = []


# ---------------------------------------------------------------- data

def iso_to_ms(text):
    """'2026-03-12T15:10:00Z' -> milliseconds since the epoch, UTC."""
    text = text.strip()
    frac = 0
    if text.endswith("Z"):
        text = text[:-1]
    if "." in text:
        text, f = text.split(".", 1)
        frac = int((f + "000")[:3])
    t = time.strptime(text, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1000 + frac


def to_wire(article):
    """A corpus record (ISO published_at, maybe null fields) as a submission
    map: published_at in ms, null fields left out."""
    out = {}
    for key, value in article.items():
        if value is None:
            continue
        if key == "published_at" and isinstance(value, str):
            value = iso_to_ms(value)
        out[key] = value
    out.setdefault("type", "article")
    return out


def load_corpus(path=CORPUS):
    """The sample corpus as a list of wire-ready submission maps."""
    with open(path, encoding="utf-8") as f:
        return [to_wire(json.loads(line)) for line in f if line.strip()]


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together while
    picking, so they differ; a small race with other programs remains)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def binary(name):
    """Path of a daemon in the build tree: store/tidings-store etc."""
    sub = name.split("-", 1)[1]
    return os.path.join(BUILD_DIR, sub, name)


class DaemonError(AssertionError):
    pass


def require_binaries():
    missing = [b for b in (binary("tidings-store"), binary("tidings-ingest"),
                           binary("tidings-query")) if not os.access(b, os.X_OK)]
    if missing:
        raise DaemonError(
            "daemons not built (TD_BUILD_DIR=%s): missing %s"
            % (BUILD_DIR, ", ".join(missing)))




# ---------------------------------------------------------------- daemons

class Daemon:
    """One daemon process with its stderr going to a log file that survives
    restarts (each start appends a header line)."""

    def __init__(self, name, args, log_path):
        self.name = name
        self.args = args
        self.log_path = log_path
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("==== start %d: %s\n" % (self.starts, " ".join(self.args))).encode())
        log.flush()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit status (None when it had to be
        killed after the timeout)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                return None
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Cluster:
    """The three daemons on one data directory.

    ports: feed (PULL), submit (ROUTER), store (internal), query, publish.
    extra: {"store"|"ingest"|"query": [more daemon arguments]}.
    curve: None for plaintext, or the CURVE keys every socket of the
    helpers uses: {"server": z85, "public": z85, "secret": z85}; each helper
    also takes curve= to override it (False: plaintext).
    """

    def __init__(self, name="cluster", data_dir=None, extra=None, curve=None):
        require_binaries()
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="tidings-e2e-%s-" % name)
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        (self.feed_port, self.submit_port, self.store_port,
         self.query_port, self.publish_port) = free_ports(5)
        self.feed_ep = "tcp://127.0.0.1:%d" % self.feed_port
        self.submit_ep = "tcp://127.0.0.1:%d" % self.submit_port
        self.store_ep = "tcp://127.0.0.1:%d" % self.store_port
        self.query_ep = "tcp://127.0.0.1:%d" % self.query_port
        self.publish_ep = "tcp://127.0.0.1:%d" % self.publish_port
        extra = extra or {}
        self.daemons = {
            "store": Daemon("store", [
                binary("tidings-store"), "--data", self.data_dir,
                "--store", self.store_ep, "--publish", self.publish_ep]
                + extra.get("store", []), os.path.join(self.tmp, "store.log")),
            "ingest": Daemon("ingest", [
                binary("tidings-ingest"), "--feed", self.feed_ep,
                "--submit", self.submit_ep, "--store", self.store_ep]
                + extra.get("ingest", []), os.path.join(self.tmp, "ingest.log")),
            "query": Daemon("query", [
                binary("tidings-query"), "--data", self.data_dir,
                "--query", self.query_ep]
                + extra.get("query", []), os.path.join(self.tmp, "query.log")),
        }
        self._push = None
        self.curve = curve
        _clusters.append(self)

    # ------------------------------------------------------------ lifecycle

    def start(self, which=("store", "ingest", "query")):
        """Start daemons (the store first: it creates the database the query
        daemon opens) and wait until each is ready."""
        for name in ("store", "ingest", "query"):
            if name not in which:
                continue
            d = self.daemons[name]
            d.start()
            if name == "store":
                self._wait(lambda: port_open(self.store_port), d,
                           "store to listen on %s" % self.store_ep)
            elif name == "ingest":
                self._wait(lambda: port_open(self.feed_port) and port_open(self.submit_port),
                           d, "ingest to listen on %s and %s" % (self.feed_ep, self.submit_ep))
            elif name == "query":
                self._wait(self._pings, d, "query to answer ping on %s" % self.query_ep)
        return self

    def _pings(self):
        try:
            reply = self.ask("ping", timeout=1.0)
        except TimeoutError:
            return False
        return reply.get("ok") is True

    def _wait(self, ready, daemon, what, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not daemon.alive():
                raise DaemonError("%s exited with status %s while waiting for %s\n%s"
                                  % (daemon.name, daemon.proc.returncode if daemon.proc else "?",
                                     what, daemon.log()[-4000:]))
            if ready():
                return
            time.sleep(0.05)
        raise DaemonError("timed out after %.0fs waiting for %s" % (timeout, what))

    def stop(self, which=("ingest", "query", "store"), check=True):
        """SIGTERM the daemons (ingest first so nothing is in flight, the store
        last) and wait; with check, assert that each exited with status 0."""
        self._close_push()
        codes = {}
        for name in ("ingest", "query", "store"):
            if name in which:
                codes[name] = self.daemons[name].stop()
        if check:
            bad = {n: c for n, c in codes.items() if c != 0}
            if bad:
                raise DaemonError("daemons did not exit cleanly on SIGTERM: %s\n%s"
                                  % (", ".join("%s=%s" % kv for kv in sorted(bad.items())),
                                     self.logs()))
        return codes

    def restart(self, which=("store", "ingest", "query")):
        self.stop(which)
        return self.start(which)

    def kill9(self, name):
        """SIGKILL one daemon (no chance to clean up)."""
        if name == "ingest":
            self._close_push()
        self.daemons[name].kill9()

    def alive(self):
        """Names of daemons that are not running."""
        return [n for n, d in self.daemons.items() if not d.alive()]

    def assert_alive(self):
        dead = self.alive()
        if dead:
            raise DaemonError("daemons died: %s\n%s" % (", ".join(dead), self.logs()))

    def close(self):
        for d in self.daemons.values():
            if d.alive():
                d.stop(timeout=5)
        self._close_push()
        if not os.environ.get("TD_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        parts = []
        for name in ("store", "ingest", "query"):
            text = self.daemons[name].log()
            if len(text) > 20000:
                text = "[... %d bytes cut ...]\n" % (len(text) - 20000) + text[-20000:]
            parts.append("----- %s stderr (%s) -----\n%s" % (name, self.name, text))
        return "\n".join(parts)

    # ------------------------------------------------------------ sockets

    def _socket(self, kind, endpoint, timeout, curve=None):
        s = _ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        keys = self.curve if curve is None else curve
        if keys:
            s.curve_serverkey = keys["server"].encode()
            s.curve_publickey = keys["public"].encode()
            s.curve_secretkey = keys["secret"].encode()
        ms = int(timeout * 1000)
        s.setsockopt(zmq.RCVTIMEO, ms)
        s.setsockopt(zmq.SNDTIMEO, ms)
        s.connect(endpoint)
        return s

    def request(self, endpoint, frame, timeout=REPLY_TIMEOUT, curve=None):
        """Send one raw frame on a fresh REQ socket and return the raw reply.
        Raises TimeoutError when none arrives in time."""
        s = self._socket(zmq.REQ, endpoint, timeout, curve)
        try:
            try:
                s.send(frame)
                return s.recv()
            except zmq.Again:
                raise TimeoutError("no reply from %s within %.1fs" % (endpoint, timeout))
        finally:
            s.close(0)

    def submit(self, article, timeout=REPLY_TIMEOUT, retry_unavailable=True, curve=None):
        """Acknowledged submit of one article (a map, or raw bytes sent as
        is). Returns the decoded reply. 'unavailable' is retried for a few
        seconds (safe by contract) unless retry_unavailable is False."""
        frame = article if isinstance(article, (bytes, bytearray)) else pack(article)
        deadline = time.monotonic() + timeout
        while True:
            reply = unpack(self.request(self.submit_ep, frame, timeout, curve))
            if (retry_unavailable and isinstance(reply, dict) and reply.get("ok") is False
                    and (reply.get("error") or {}).get("code") == "unavailable"
                    and time.monotonic() < deadline):
                time.sleep(0.2)
                continue
            return reply

    def push(self, article, fresh=False):
        """Fire-and-forget feed of one article (map) or raw frame (bytes)."""
        frame = article if isinstance(article, (bytes, bytearray)) else pack(article)
        if fresh:
            self._close_push()
        if self._push is None:
            self._push = self._socket(zmq.PUSH, self.feed_ep, REPLY_TIMEOUT)
        try:
            self._push.send(frame)
        except zmq.Again:
            raise TimeoutError("could not push to %s" % self.feed_ep)

    def _close_push(self):
        if self._push is not None:
            self._push.close(0)
            self._push = None

    def ask(self, op, timeout=REPLY_TIMEOUT, curve=None, **params):
        """Send {op, **params} to the query daemon; return the whole reply
        envelope ({ok, result} or {ok, error})."""
        req = {"op": op}
        req.update(params)
        return unpack(self.request(self.query_ep, pack(req), timeout, curve))

    def result(self, op, **params):
        """Like ask() but asserts ok and returns the result."""
        reply = self.ask(op, **params)
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise AssertionError("%s %r failed: %r" % (op, params, reply))
        return reply["result"]

    def subscribe(self, prefix=b"", timeout=REPLY_TIMEOUT, curve=None):
        """A SUB socket on the publish endpoint, filtered by topic prefix."""
        s = self._socket(zmq.SUB, self.publish_ep, timeout, curve)
        s.setsockopt(zmq.SUBSCRIBE, prefix if isinstance(prefix, bytes) else prefix.encode())
        return s

    # ------------------------------------------------------------ helpers

    def wait_for(self, predicate, what, timeout=REPLY_TIMEOUT, interval=0.05):
        """Poll predicate() until it returns a true value; return that value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        self.assert_alive()
        raise AssertionError("timed out after %.0fs waiting for %s (last: %r)"
                             % (timeout, what, last))

    def stats(self):
        return self.result("stats")

    def caught_up(self, waiting=("doc_unindexed",), what="the store caught up"):
        """Wait until the article count stops moving and the named stats
        counters (work the store holds while behind) are 0; returns the
        article count."""
        last = [None]

        def quiet():
            st = self.stats()
            now = (st["articles"],) + tuple(st["counters"][k] for k in waiting)
            done = now == last[0] and not any(now[1:])
            last[0] = now
            return done
        self.wait_for(quiet, what, timeout=120, interval=1.0)
        return self.stats()["articles"]

    def paused_burst(self, articles):
        """Push the articles while the store is stopped (SIGSTOP), so that
        it wakes up behind, with full batches waiting (however fast the
        machine or slow the build)."""
        pid = self.daemons["store"].proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            for a in articles:
                self.push(a)
            time.sleep(1.0)   # the ingest analyses and queues them on the link
        finally:
            os.kill(pid, signal.SIGCONT)

    def wait_articles(self, n, timeout=REPLY_TIMEOUT):
        """Wait until stats counts at least n articles."""
        return self.wait_for(lambda: self.stats()["articles"] >= n and self.stats(),
                             "%d articles in stats" % n, timeout)

    def list_all(self, op, key, limit=7, **params):
        """Follow next_cursor through a list op; returns (items, pages)."""
        items, pages, cursor = [], [], None
        for _ in range(10000):
            p = dict(params, limit=limit)
            if cursor is not None:
                p["cursor"] = cursor
            res = self.result(op, **p)
            pages.append(res[key])
            items.extend(res[key])
            cursor = res.get("next_cursor")
            if not cursor:
                return items, pages
        raise AssertionError("%s never stopped paging" % op)


def verify(data_dir):
    """tidings-verify on a data directory (its store stopped)."""
    tool = os.path.join(BUILD_DIR, "store", "tidings-verify")
    return subprocess.run([tool, "--data", data_dir], capture_output=True, text=True)


def assert_verified(test, data_dir):
    """tidings-verify finds no problem (test: the unittest.TestCase);
    returns its run."""
    out = verify(data_dir)
    test.assertEqual(out.returncode, 0, out.stdout + out.stderr)
    return out


def receive(sock, until, timeout=REPLY_TIMEOUT):
    """Collect notifications [(topic, map)] from a SUB socket until
    until(list) is true or the timeout passes."""
    got = []
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    deadline = time.monotonic() + timeout
    while not until(got):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if not poller.poll(int(left * 1000)):
            break
        frames = sock.recv_multipart()
        if len(frames) < 2:
            got.append((frames[0].decode("utf-8", "replace"), None))
        else:
            got.append((frames[0].decode("utf-8", "replace"), unpack(frames[-1])))
    return got


# ---------------------------------------------------------------- runner

def _cleanup():
    for c in _clusters:
        c.close()


atexit.register(_cleanup)


def main():
    """Run the calling module's tests; on failure print every daemon's
    stderr. Exit 0 / 1, or 77 when the whole module was skipped."""
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout)
    try:
        result = runner.run(suite)
    except KeyboardInterrupt:
        _cleanup()
        raise
    if not result.wasSuccessful():
        for c in _clusters:
            print("\n" + c.logs())
            print("(temporary directory %s: %s)" % (
                c.tmp, "kept" if os.environ.get("TD_E2E_KEEP") else
                "removed; set TD_E2E_KEEP=1 to keep it"))
        _cleanup()
        sys.stdout.flush()
        sys.exit(1)
    _cleanup()
    sys.stdout.flush()
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        sys.exit(SKIP)
    sys.exit(0)
