"""Records and transport against OpenSSL: small records (handshake messages
split across records), TLS 1.3 record padding, many session tickets, an
unsupported extension, IPv6 loopback, and the NSS key log compared with the
peer's own."""

import os
import tempfile
import unittest

from peers import PeerTestCase, pki

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"


class RecordsFromOpenSSL(PeerTestCase):
    """petrel client reading what s_server sends in unusual shapes."""

    REQUIRED_PROGRAMS = ("openssl",)

    def fetch_page(self, *server_args, cert="server-p256"):
        _, port = self.openssl_server("-www", "-tls1_3", *server_args, cert=cert)
        client, rc = self.run_petrel_client(port, send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0)
        return client

    def test_small_records(self):
        # 512-byte records: the server's Certificate (an RSA chain, over
        # 1.5 kB) arrives in pieces and must be reassembled (RFC 8446 5.1).
        self.fetch_page("-max_send_frag", "512", cert="server-rsa2048")

    def test_padded_records(self):
        # RFC 8446 5.4: zero padding after the content type is removed.
        self.fetch_page("-record_padding", "1024")

    def test_many_session_tickets(self):
        self.fetch_page("-num_tickets", "8")

    def test_tls12_small_records(self):
        _, port = self.openssl_server("-www", "-tls1_2", "-max_send_frag", "512",
                                      cert="server-rsa2048")
        client, rc = self.run_petrel_client(port, "--max-version", "1.2", send=GET,
                                            expect=PAGE_END)
        self.assertEqual(rc, 0)


class RecordsToPetrel(PeerTestCase):
    """s_client sending unusual records to petrel server (echo)."""

    REQUIRED_PROGRAMS = ("openssl",)

    def echo_through(self, *client_args, size=20000):
        line = (os.urandom(size // 2).hex() + "\n")
        _, port = self.petrel_server()
        client = self.openssl_client(port, *client_args)
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send(line)
        client.wait_for(line[-64:], start=mark, timeout=30)
        self.assertIn(line, client.text()[mark:])
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_small_records(self):
        self.echo_through("-max_send_frag", "512")

    def test_padded_records(self):
        self.echo_through("-record_padding", "1024")

    def test_max_fragment_length_offer_is_ignored(self):
        # petrel does not implement RFC 6066 max_fragment_length; it must
        # ignore the extension and the connection must still work.
        self.echo_through("-maxfraglen", "512")

    def test_client_certificate_in_small_records(self):
        self.echo_through("-max_send_frag", "512", "-cert", pki("client-rsa2048.pem"),
                          "-key", pki("client-rsa2048.key"), "-cert_chain", pki("int-ca.pem"))


class IPv6Loopback(PeerTestCase):
    REQUIRED_PROGRAMS = ("openssl",)

    def test_petrel_client_over_ipv6(self):
        # No --servername: "::1" is checked against the IP:::1 subjectAltName.
        _, port = self.openssl_server("-www", "-tls1_3", host="[::1]")
        client, rc = self.run_petrel_client(port, send=GET, expect=PAGE_END, host="[::1]",
                                            servername=None)
        self.assertEqual(rc, 0)

    def test_petrel_server_over_ipv6(self):
        _, port = self.petrel_server(host="[::1]")
        client = self.start("openssl s_client", [
            "stdbuf", "-oL", "openssl", "s_client", "-connect", f"[::1]:{port}",
            "-CAfile", pki("ca.pem"), "-verify_return_error", "-verify_ip", "::1"])
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send("over ipv6\n")
        client.wait_for(r"over ipv6", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


class KeyLog(PeerTestCase):
    """petrel's NSS key log must hold exactly the secrets OpenSSL logs for
    the same connection (same labels, client random and secrets)."""

    REQUIRED_PROGRAMS = ("openssl",)

    def setUp(self):
        super().setUp()
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def assert_private(self, name):
        """The key log holds secrets: nobody but its owner may read it."""
        mode = os.stat(os.path.join(self.dir.name, name)).st_mode
        self.assertEqual(mode & 0o077, 0, f"key log mode is {mode & 0o777:o}")

    def lines(self, name):
        with open(os.path.join(self.dir.name, name)) as f:
            return sorted(ln.strip() for ln in f if ln.strip() and not ln.startswith("#"))

    def check_same(self, ours, theirs, labels):
        """Every line petrel logged is one OpenSSL logged, and petrel logged
        each label. OpenSSL also logs EXPORTER_SECRET, which petrel has no
        use for (it offers no keying material exporter)."""
        self.assertTrue(ours, "petrel wrote no key log lines")
        self.assert_private("petrel.log")
        theirs = [ln for ln in theirs if not ln.startswith("EXPORTER_SECRET ")]
        self.assertEqual(ours, theirs)
        self.assertEqual({ln.split()[0] for ln in ours}, set(labels))

    def test_client_key_log_tls13(self):
        _, port = self.openssl_server("-www", "-tls1_3", "-keylogfile",
                                      os.path.join(self.dir.name, "openssl.log"))
        _, rc = self.run_petrel_client(port, "--keylog", os.path.join(self.dir.name, "petrel.log"),
                                       send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0)
        self.check_same(self.lines("petrel.log"), self.lines("openssl.log"), [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"])

    def test_server_key_log_tls13(self):
        _, port = self.petrel_server("--keylog", os.path.join(self.dir.name, "petrel.log"))
        client = self.openssl_client(port, "-keylogfile",
                                     os.path.join(self.dir.name, "openssl.log"))
        client.wait_for(r"Verify return code: 0 \(ok\)")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        self.check_same(self.lines("petrel.log"), self.lines("openssl.log"), [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"])

    def test_client_key_log_tls12(self):
        _, port = self.openssl_server("-www", "-tls1_2", "-keylogfile",
                                      os.path.join(self.dir.name, "openssl.log"))
        _, rc = self.run_petrel_client(port, "--max-version", "1.2", "--keylog",
                                       os.path.join(self.dir.name, "petrel.log"),
                                       send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0)
        self.check_same(self.lines("petrel.log"), self.lines("openssl.log"), ["CLIENT_RANDOM"])


if __name__ == "__main__":
    unittest.main()
