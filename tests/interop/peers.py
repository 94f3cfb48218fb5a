"""Shared helpers for the interop tests: start peers, read their output with
deadlines, stop them, and show what they printed when a test fails.

Environment (set by tests/interop/CMakeLists.txt):
  PETREL_BIN        the petrel command
  PETREL_TEST_DATA  the test PKI directory (tests/pki/README.md)
  PETREL_PYTHON     the Python used for the Python ssl peers (/usr/bin/python3)

Every peer listens on 127.0.0.1 only (gnutls-serv, which cannot choose its
address, runs in a private network namespace: see test_gnutls.py). A peer
program that is missing makes the test fail; nothing is skipped.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PKI = os.environ.get("PETREL_TEST_DATA", "")
PETREL = os.environ.get("PETREL_BIN", "")
PYTHON = os.environ.get("PETREL_PYTHON", "/usr/bin/python3")
PYSSL_PEER = os.path.join(HERE, "pyssl_peer.py")

# How long to wait for any one expected line or exit, in seconds.
DEADLINE = float(os.environ.get("PETREL_INTEROP_DEADLINE", "20"))

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
# Petrel's group names, with a pattern matching any spelling a peer or the
# petrel summary may print for the same group.
GROUPS = {
    "x25519": r"(?i)x25519",
    "P-256": r"(?i)(P-256|secp256r1|prime256v1)",
    "P-384": r"(?i)(P-384|secp384r1)",
}
OPENSSL_GROUP = {"x25519": "X25519", "P-256": "P-256", "P-384": "P-384"}


def pki(name):
    """Path of a file of the test PKI."""
    return os.path.join(PKI, name)


def free_port(family=socket.AF_INET):
    """A TCP port on 127.0.0.1 (or ::1) that was free a moment ago."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra=None):
    """The environment for peers: no proxies, fixed locale, plus extra."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


class PeerError(AssertionError):
    """A peer did not print what was expected in time, or exited early."""


class Peer:
    """A running program whose stdout and stderr are collected by threads.

    The program runs in its own session (process group) so that stop() can
    end it together with anything it started.
    """

    def __init__(self, name, argv, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self._cond = threading.Condition()
        self._buf = {"out": bytearray(), "err": bytearray()}
        self._eof = {"out": False, "err": False}
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     env=env if env is not None else clean_env(), cwd=cwd)
        self._threads = [threading.Thread(target=self._pump, args=(key, stream), daemon=True)
                         for key, stream in (("out", self.proc.stdout),
                                             ("err", self.proc.stderr))]
        for t in self._threads:
            t.start()

    def _pump(self, key, stream):
        fd = stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._eof[key] = True
                    self._cond.notify_all()
                    return
                self._buf[key] += data
                self._cond.notify_all()

    # --- reading ---

    def text(self, stream="out"):
        """Everything the peer printed so far on one stream, or both ("any")."""
        with self._cond:
            if stream == "any":
                return (bytes(self._buf["out"]) + bytes(self._buf["err"])).decode("latin-1")
            return bytes(self._buf[stream]).decode("latin-1")

    def mark(self, stream="out"):
        """An offset to pass as start= so that only later output matches."""
        with self._cond:
            return len(self._buf[stream])

    def wait_for(self, pattern, stream="out", timeout=DEADLINE, start=0):
        """Waits until pattern (a regular expression) appears in the stream
        at or after offset start; returns the match. Raises PeerError with the
        peer's output when the deadline passes or the stream closes first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        keys = ("out", "err") if stream == "any" else (stream,)
        with self._cond:
            while True:
                for key in keys:
                    found = regex.search(bytes(self._buf[key][start:]).decode("latin-1"))
                    if found:
                        return found
                if all(self._eof[key] for key in keys):
                    raise PeerError(f"{self.name} closed its std{stream} before printing "
                                    f"{pattern!r}\n{self._transcript_locked()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PeerError(f"{self.name} did not print {pattern!r} on std{stream} "
                                    f"within {timeout} s\n{self._transcript_locked()}")
                self._cond.wait(min(left, 0.5))

    # --- writing ---

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise PeerError(f"{self.name}: cannot write to its stdin ({exc})\n"
                            f"{self.transcript()}") from None

    def send_if_open(self, data):
        """Like send, but a peer that already closed its input (for example
        after a fatal alert) is not an error."""
        try:
            self.send(data)
        except PeerError:
            pass

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    # --- ending ---

    def wait(self, timeout=DEADLINE):
        """Waits for the peer to exit by itself; returns its exit status."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(f"{self.name} did not exit within {timeout} s\n"
                            f"{self.transcript()}") from None
        for t in self._threads:
            t.join(5)
        return rc

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Ends the peer's whole process group: SIGTERM, then SIGKILL."""
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.close_stdin()
        for t in self._threads:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

    def transcript(self):
        with self._cond:
            return self._transcript_locked()

    def _transcript_locked(self):
        rc = self.proc.poll()
        status = "running" if rc is None else f"exit status {rc}"
        out = bytes(self._buf["out"]).decode("latin-1")
        err = bytes(self._buf["err"]).decode("latin-1")
        return (f"----- {self.name} ({status}): {' '.join(self.argv)}\n"
                f"[stdout]\n{_tail(out)}\n[stderr]\n{_tail(err)}\n-----")


def _tail(text, limit=8000):
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters cut ...]\n" + text[-limit:]


class PeerTestCase(unittest.TestCase):
    """Base class: starts peers, stops them after each test, and prints every
    peer's output when the test failed."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        problems = []
        if not PETREL or not os.access(PETREL, os.X_OK):
            problems.append(f"petrel command not found (PETREL_BIN={PETREL!r}); build it first")
        if not PKI or not os.path.isfile(os.path.join(PKI, "ca.pem")):
            problems.append(f"test PKI not found (PETREL_TEST_DATA={PKI!r}); "
                            "run tests/pki/make-pki.sh")
        for prog in getattr(cls, "REQUIRED_PROGRAMS", ()):
            if shutil.which(prog) is None and not os.access(prog, os.X_OK):
                problems.append(f"required peer program {prog!r} is not installed "
                                "(scripts/setup.sh installs it)")
        if problems:
            raise AssertionError("; ".join(problems))

    def setUp(self):
        self.peers = []
        self._problems_before = self._problem_count()
        self.addCleanup(self._report_if_failed)

    def _problem_count(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return None
        return len(result.failures) + len(result.errors)

    def _report_if_failed(self):
        before, now = self._problems_before, self._problem_count()
        if before is not None and now == before:
            return
        for peer in self.peers:
            sys.stderr.write("\n" + peer.transcript() + "\n")
        sys.stderr.flush()

    def start(self, name, argv, env=None, cwd=None):
        peer = Peer(name, argv, env=env, cwd=cwd)
        self.peers.append(peer)
        self.addCleanup(peer.stop)
        return peer

    def expect(self, peer, pattern, stream="out", start=0):
        """Asserts that pattern already appears in what peer printed (stream
        "out", "err" or "any"); returns the match. The peers' full output is
        printed when the test fails, so the message stays short."""
        keys = ("out", "err") if stream == "any" else (stream,)
        for key in keys:
            found = re.search(pattern, peer.text(key)[start:])
            if found:
                return found
        self.fail(f"{peer.name}: {pattern!r} not found on std{stream} (output below)")

    def expect_not(self, peer, pattern, stream="out"):
        found = re.search(pattern, peer.text(stream))
        if found:
            self.fail(f"{peer.name}: {found.group(0)!r} should not appear on std{stream}")

    # --- petrel ---

    def petrel_server(self, *args, cert="server-p256", name="petrel server", host="127.0.0.1"):
        """Starts `petrel server` on host (127.0.0.1 or "[::1]"), port 0,
        with a chain and key of the test PKI (cert=None for none); returns
        (peer, port)."""
        argv = [PETREL, "server", "--listen", f"{host}:0"]
        if cert:
            argv += ["--cert", pki(f"{cert}-chain.pem"), "--key", pki(f"{cert}.key")]
        peer = self.start(name, argv + list(args))
        found = peer.wait_for(r"listening on \S*:(\d+)\r?\n", stream="err")
        return peer, int(found.group(1))

    def petrel_client(self, port, *args, ca=True, servername="localhost", name="petrel client",
                      host="127.0.0.1"):
        """Starts `petrel client HOST:PORT` trusting the test root."""
        argv = [PETREL, "client", f"{host}:{port}"]
        if ca:
            argv += ["--cafile", pki("ca.pem")]
        if servername:
            argv += ["--servername", servername]
        return self.start(name, argv + list(args))

    def run_petrel_client(self, port, *args, send=b"", expect=None, **kw):
        """Runs a petrel client to its end: sends `send`, waits for `expect`
        on stdout when given, closes stdin, and returns (peer, exit status)."""
        peer = self.petrel_client(port, *args, **kw)
        if send:
            peer.send_if_open(send)  # a client that failed early may not read it
        if expect is not None:
            peer.wait_for(expect)
        peer.close_stdin()
        return peer, peer.wait()

    def assertPetrelFailed(self, peer, rc, pattern):  # noqa: N802
        """petrel exited with status 1 (a failure at run time; 2 is kept for
        usage errors) and a one-line "petrel: ..." reason that matches
        pattern (case-insensitive)."""
        self.assertEqual(rc, 1, f"{peer.name} should have failed with exit status 1")
        lines = [ln for ln in peer.text("err").splitlines() if ln.startswith("petrel: ")]
        self.assertTrue(lines, f"{peer.name}: no 'petrel: <reason>' line on stderr")
        if not re.search(pattern, lines[-1], re.IGNORECASE):
            self.fail(f"{peer.name}: reason {lines[-1]!r} does not match {pattern!r}")

    # --- openssl ---

    def openssl_server(self, *args, cert="server-p256", name="openssl s_server",
                       host="127.0.0.1"):
        """Starts `openssl s_server` on a free port of host (127.0.0.1, or
        "[::1]") with a leaf of the test PKI and its intermediate; returns
        (peer, port)."""
        argv_cert = []
        if cert:
            argv_cert = ["-cert", pki(f"{cert}.pem"), "-key", pki(f"{cert}.key"),
                         "-cert_chain", pki("int-ca.pem")]
        family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
        for _ in range(5):
            port = free_port(family)
            # stdbuf: s_server prints some lines with stdio, fully buffered on a pipe.
            peer = self.start(name, ["stdbuf", "-oL", "-eL", "openssl", "s_server",
                                     "-accept", f"{host}:{port}", *argv_cert, *args])
            try:
                peer.wait_for(r"ACCEPT")
                return peer, port
            except PeerError:
                if "Address already in use" not in peer.text("err"):
                    raise
                peer.stop()
        self.fail("openssl s_server could not find a free port")

    def openssl_client(self, port, *args, name="openssl s_client", verify=True,
                       host="127.0.0.1"):
        argv = ["stdbuf", "-oL", "-eL", "openssl", "s_client", "-connect", f"{host}:{port}",
                "-servername", "localhost"]
        if verify:
            argv += ["-CAfile", pki("ca.pem"), "-verify_return_error",
                     "-verify_hostname", "localhost"]
        return self.start(name, argv + list(args))

    # --- Python's ssl module, in a separate /usr/bin/python3 process ---

    def python_server(self, *args, name="python ssl server"):
        peer = self.start(name, [PYTHON, PYSSL_PEER, "server", *args])
        found = peer.wait_for(r"listening on 127\.0\.0\.1:(\d+)\r?\n")
        return peer, int(found.group(1))

    def python_client(self, port, *args, name="python ssl client"):
        return self.start(name, [PYTHON, PYSSL_PEER, "client", str(port), *args])
