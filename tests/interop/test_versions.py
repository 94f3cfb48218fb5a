"""Protocol version bounds against real peers, both roles.

Petrel and its peer each allow one of three ranges: TLS 1.2 only, TLS 1.3
only, or TLS 1.2 to 1.3. For each of the nine pairs the handshake must reach
the highest version both allow (RFC 8446 4.2.1, RFC 5246 E.1), and both sides
must report it; when the ranges do not meet, petrel must exit with status 1
naming the protocol version failure, and the peer must fail too.

Peers: openssl s_server, a Python ssl server and gnutls-serv against petrel
client; openssl s_client, a Python ssl client, gnutls-cli and curl against
petrel server --once. gnutls-serv listens on every interface, so CTest runs
this file inside a private network namespace (netns.sh); the GnuTLS cases
refuse to run outside one.
"""

import itertools
import os
import re
import subprocess
import unittest

from peers import DEADLINE, PeerError, PeerTestCase, clean_env, free_port, pki

# Name of a range -> (lowest, highest) version, spelled as petrel takes them.
RANGES = {"1.2": ("1.2", "1.2"), "1.3": ("1.3", "1.3"), "1.2-1.3": ("1.2", "1.3")}
CELLS = list(itertools.product(RANGES, RANGES))  # (petrel's range, the peer's range)

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"
# petrel's reason when the peer refused, or when petrel itself refused.
PETREL_VERSION_FAILURE = r"protocol.version|no protocol version in common"
# OpenSSL-based peers (s_client, curl, Python) receiving petrel's alert 70.
OPENSSL_GOT_ALERT_70 = r"(?i)alert protocol version|alert number 70"


def expected_version(petrel_range, peer_range):
    """The version the handshake must reach ("1.2" or "1.3"), or None when
    the two ranges have no version in common."""
    low = max(RANGES[petrel_range][0], RANGES[peer_range][0])
    high = min(RANGES[petrel_range][1], RANGES[peer_range][1])
    return high if low <= high else None


def petrel_bounds(name):
    low, high = RANGES[name]
    return ("--min-version", low, "--max-version", high)


def openssl_bounds(name):
    low, high = RANGES[name]
    return ("-min_protocol", f"TLSv{low}", "-max_protocol", f"TLSv{high}")


def python_bounds(name):
    low, high = RANGES[name]
    return ("--min-version", low, "--max-version", high)


def gnutls_priority(name):
    low, high = RANGES[name]
    versions = "".join(f":+VERS-TLS{v}" for v in sorted({low, high}))
    return f"NORMAL:-VERS-ALL{versions}"


def curl_bounds(name):
    low, high = RANGES[name]
    return (f"--tlsv{low}", "--tls-max", high)


class VersionMatrix(PeerTestCase):
    """Runs one cell per subTest. The peers of a cell are stopped when it
    ends; those of a failing cell stay listed so that their output is
    printed with the failure."""

    def matrix(self, cell):
        for petrel_range, peer_range in CELLS:
            with self.subTest(petrel=petrel_range, peer=peer_range):
                started = len(self.peers)
                try:
                    cell(petrel_range, peer_range, expected_version(petrel_range, peer_range))
                finally:
                    for peer in self.peers[started:]:
                        peer.stop()
                del self.peers[started:]

    def assertPetrelRefused(self, peer, rc, pattern=PETREL_VERSION_FAILURE):  # noqa: N802
        self.assertPetrelFailed(peer, rc, pattern)
        self.expect_not(peer, r"(?m)^(version|connection): ", "err")


class GnuTLSRequired:
    """Mixin: the GnuTLS peers only run inside the private namespace."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.environ.get("PETREL_PRIVATE_NETNS") != "1":
            raise AssertionError("run through tests/interop/netns.sh (as CTest does): "
                                 "gnutls-serv would listen on every interface")


# ---------------------------------------------------------------- petrel client


class PetrelClientVersions(GnuTLSRequired, VersionMatrix):
    REQUIRED_PROGRAMS = ("openssl", "gnutls-serv", "stdbuf")

    def client(self, port, petrel_range, send, expect):
        """Runs petrel client with petrel_range; returns (peer, exit status)."""
        return self.run_petrel_client(port, *petrel_bounds(petrel_range), send=send,
                                      expect=expect)

    def assertClientGot(self, client, rc, version):  # noqa: N802
        self.assertEqual(rc, 0, "petrel client should exit 0 after a clean close")
        self.expect(client, rf"(?m)^version: TLSv{re.escape(version)}$", "err")

    def test_openssl_server(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.openssl_server("-www", *openssl_bounds(peer_range))
            client, rc = self.client(port, petrel_range, GET, PAGE_END if version else None)
            if version:
                self.assertClientGot(client, rc, version)
                # The -www page is the server's own account of the session.
                self.expect(client, rf"New, TLSv{re.escape(version)}, Cipher is ")
            else:
                self.assertPetrelRefused(client, rc)
                server.wait_for(r"unsupported protocol", stream="err")

        self.matrix(cell)

    def test_python_server(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.python_server("--cert", "server-rsa2048",
                                              *python_bounds(peer_range))
            line = b"hello python\n"
            client, rc = self.client(port, petrel_range, line,
                                     r"hello python" if version else None)
            if version:
                self.assertClientGot(client, rc, version)
                self.expect(server, rf"handshake version=TLSv{re.escape(version)} ")
                self.assertEqual(server.wait(), 0)
                self.expect(server, r"(?m)^closed$")
            else:
                self.assertPetrelRefused(client, rc)
                self.assertEqual(server.wait(), 3, "the Python server should fail")
                self.expect(server, r"error: .*UNSUPPORTED_PROTOCOL")

        self.matrix(cell)

    def gnutls_server(self, peer_range):
        for _ in range(5):
            port = free_port()
            server = self.start("gnutls-serv", [
                "gnutls-serv", "--echo", "-a", "-p", str(port),
                "--x509certfile", pki("server-p256-chain.pem"),
                "--x509keyfile", pki("server-p256.key"), "--priority", gnutls_priority(peer_range)])
            try:
                server.wait_for(r"listening on IPv4 .* port \d+\.\.\.done", stream="any")
                return server, port
            except PeerError:
                if not re.search(r"(?i)address already in use", server.text("any")):
                    raise
                server.stop()
        self.fail("gnutls-serv could not find a free port")

    def test_gnutls_server(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.gnutls_server(peer_range)
            client, rc = self.client(port, petrel_range, b"hello gnutls\n",
                                     r"hello gnutls" if version else None)
            if version:
                self.assertClientGot(client, rc, version)
                server.wait_for(rf"- Version: TLS{re.escape(version)}\b", stream="any")
            else:
                # GnuTLS answers a ClientHello without a version it allows
                # with handshake_failure rather than protocol_version.
                self.assertPetrelRefused(client, rc, r"protocol.version|handshake.failure")
                server.wait_for(r"Error in handshake", stream="any")

        self.matrix(cell)


# ---------------------------------------------------------------- petrel server


class PetrelServerVersions(GnuTLSRequired, VersionMatrix):
    REQUIRED_PROGRAMS = ("openssl", "gnutls-cli", "curl", "stdbuf")

    def server(self, petrel_range, *args, cert="server-p256"):
        """petrel server --once with petrel_range; returns (peer, port)."""
        return self.petrel_server("--once", *petrel_bounds(petrel_range), *args, cert=cert)

    def assertServerGot(self, server, version):  # noqa: N802
        self.assertEqual(server.wait(), 0, "petrel server --once should exit 0")
        self.expect(server, rf"(?m)^connection: TLSv{re.escape(version)} ", "err")

    def assertServerRefused(self, server):  # noqa: N802
        self.assertPetrelRefused(server, server.wait(),
                                 r"no protocol version in common.*protocol.version")

    def test_openssl_client(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.server(petrel_range)
            client = self.openssl_client(port, *openssl_bounds(peer_range))
            if version:
                client.wait_for(r"Verify return code: 0 \(ok\)")
                mark = client.mark()
                client.send("hello petrel\n")
                client.wait_for(r"hello petrel", start=mark)
                client.close_stdin()
                self.assertEqual(client.wait(), 0)
                self.expect(client, rf"New, TLSv{re.escape(version)}, Cipher is ")
                self.assertServerGot(server, version)
            else:
                self.assertNotEqual(client.wait(), 0, "s_client should fail")
                self.expect(client, OPENSSL_GOT_ALERT_70, "any")
                self.assertServerRefused(server)

        self.matrix(cell)

    def test_python_client(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.server(petrel_range, cert="server-rsa2048")
            client = self.python_client(port, "--cafile", "ca.pem", "--echo", "1000",
                                        *python_bounds(peer_range))
            rc = client.wait()
            if version:
                self.assertEqual(rc, 0, "the Python client should succeed")
                self.expect(client, rf"handshake version=TLSv{re.escape(version)} ")
                self.expect(client, r"echo ok 1000\b")
                self.assertServerGot(server, version)
            else:
                self.assertEqual(rc, 3, "the Python client should fail")
                self.expect(client, r"error: .*TLSV1_ALERT_PROTOCOL_VERSION")
                self.assertServerRefused(server)

        self.matrix(cell)

    def test_gnutls_client(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.server(petrel_range)
            client = self.start("gnutls-cli", [
                "gnutls-cli", "--x509cafile", pki("ca.pem"), "-p", str(port),
                "--verify-hostname", "localhost", "--sni-hostname", "localhost",
                "--priority", gnutls_priority(peer_range), "127.0.0.1"])
            if version:
                client.wait_for(r"- Handshake was completed")
                self.expect(client, rf"- Description: \(TLS{re.escape(version)}-X\.509\)")
                mark = client.mark()
                client.send("hello petrel\n")
                client.wait_for(r"hello petrel", start=mark)
                client.close_stdin()
                self.assertEqual(client.wait(), 0)
                self.assertServerGot(server, version)
            else:
                self.assertNotEqual(client.wait(), 0, "gnutls-cli should fail")
                self.expect(client, r"Received alert \[70\]", "any")
                self.assertServerRefused(server)

        self.matrix(cell)

    def curl(self, port, peer_range):
        argv = ["curl", "-sS", "-v", "--noproxy", "*", "--max-time", str(int(DEADLINE)),
                *curl_bounds(peer_range), "--cacert", pki("ca.pem"),
                "--resolve", f"localhost:{port}:127.0.0.1", f"https://localhost:{port}/"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                                  env=clean_env(), timeout=DEADLINE + 5, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail(f"curl did not finish: {' '.join(argv)}")
        return proc, f"$ {' '.join(argv)}\n[exit {proc.returncode}]\n{proc.stdout}\n{proc.stderr}"

    def test_curl(self):
        def cell(petrel_range, peer_range, version):
            server, port = self.server(petrel_range, "--http", cert="server-rsa2048")
            proc, log = self.curl(port, peer_range)
            if version:
                v = re.escape(version)
                self.assertEqual(proc.returncode, 0, log)
                self.assertRegex(proc.stderr, rf"SSL connection using TLSv{v} / ", log)
                self.assertRegex(proc.stdout, rf"Protocol version: TLSv{v}\b", log)
                self.assertServerGot(server, version)
            else:
                self.assertEqual(proc.returncode, 35, log)  # CURLE_SSL_CONNECT_ERROR
                self.assertRegex(proc.stderr, OPENSSL_GOT_ALERT_70, log)
                self.assertServerRefused(server)

        self.matrix(cell)


if __name__ == "__main__":
    unittest.main()
