"""Interop with OpenSSL's s_server and s_client (TLS 1.3), both directions:
the page of `s_server -www`, verification, every suite and group, HRR,
signature algorithms per key type, client certificates, ALPN, SNI and
KeyUpdate."""

import os
import re
import tempfile
import unittest

from peers import GROUPS, OPENSSL_GROUP, SUITES, PeerTestCase, pki

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"
KEY_UPDATE_SENT = r">>> TLS 1.3, Handshake \[length \w+\], KeyUpdate"
KEY_UPDATE_RECEIVED = r"<<< TLS 1.3, Handshake \[length \w+\], KeyUpdate"

# Server leaf -> (signature algorithm in petrel's summary, s_client's
# "Peer signature type").
SIGALGS = {
    "server-p256": (r"ecdsa_secp256r1_sha256", "ECDSA"),
    "server-p384": (r"ecdsa_secp384r1_sha384", "ECDSA"),
    "server-rsa2048": (r"rsa_pss_rsae_sha(256|384|512)", "RSA-PSS"),
    "server-ed25519": (r"ed25519", "ed25519"),
    "server-rsapss": (r"rsa_pss_pss_sha(256|384|512)", "RSA-PSS"),
}
CLIENT_KEYS = ("client-p256", "client-p384", "client-rsa2048", "client-rsapss", "client-ed25519")

# s_client's "Server Temp Key" for each group.
TEMP_KEY = {"x25519": "X25519", "P-256": "ECDH, prime256v1", "P-384": "ECDH, secp384r1"}


class PetrelClientToOpenSSL(PeerTestCase):
    """petrel client against openssl s_server."""

    REQUIRED_PROGRAMS = ("openssl",)

    def fetch_page(self, server_args=(), client_args=(), cert="server-p256"):
        """petrel client GETs the status page of `s_server -www -tls1_3`;
        returns the client, after checking it exited 0."""
        _, port = self.openssl_server("-www", "-tls1_3", *server_args, cert=cert)
        client, rc = self.run_petrel_client(port, *client_args, send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0, "petrel client should exit 0 after the page")
        return client

    def test_fetch_page_tls13(self):
        client = self.fetch_page()
        self.expect(client, r"HTTP/1\.0 200 ok")
        cipher = self.expect(client, r"New, TLSv1\.3, Cipher is (TLS_\w+)").group(1)
        self.expect(client, r"TLSv1\.3", "err")
        self.expect(client, re.escape(cipher), "err")

    def test_summary_reports_verification_and_peer(self):
        client = self.fetch_page()
        self.expect(client, r"CN ?= ?localhost", "err")
        self.expect(client, r"(?i)(verif\w*\W+(ok|success|passed)|X509_V_OK)", "err")

    def test_suites_chosen_by_petrel(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                client = self.fetch_page(client_args=("--ciphers", suite))
                self.expect(client, rf"Cipher is {suite}\b")
                self.expect(client, suite, "err")

    def test_suites_chosen_by_openssl(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                client = self.fetch_page(server_args=("-ciphersuites", suite))
                self.expect(client, rf"Cipher is {suite}\b")
                self.expect(client, suite, "err")

    def test_groups_chosen_by_petrel(self):
        for group, pattern in GROUPS.items():
            with self.subTest(group=group):
                client = self.fetch_page(client_args=("--groups", group))
                self.expect(client, pattern, "err")

    def test_groups_chosen_by_openssl(self):
        for group, pattern in GROUPS.items():
            with self.subTest(group=group):
                client = self.fetch_page(server_args=("-groups", OPENSSL_GROUP[group]))
                self.expect(client, pattern, "err")

    def test_hello_retry_request(self):
        # petrel offers a key share for x25519 only; the server accepts only
        # P-384, so it must answer with a HelloRetryRequest (RFC 8446 4.1.4).
        server, port = self.openssl_server("-www", "-tls1_3", "-groups", "P-384", "-msg")
        client, rc = self.run_petrel_client(port, "--groups", "x25519:P-384", send=GET,
                                            expect=PAGE_END)
        self.assertEqual(rc, 0)
        self.expect(client, GROUPS["P-384"], "err")
        hellos = re.findall(r"<<< TLS 1.3, Handshake \[length \w+\], ClientHello", server.text())
        self.assertEqual(len(hellos), 2, "the server should see a second ClientHello after HRR")

    def test_signature_algorithms_by_key_type(self):
        for cert, (sigalg, _) in SIGALGS.items():
            with self.subTest(cert=cert):
                client = self.fetch_page(cert=cert)
                self.expect(client, f"(?i){sigalg}", "err")

    def test_client_certificate_in_handshake(self):
        for cert in CLIENT_KEYS:
            with self.subTest(cert=cert):
                client = self.fetch_page(
                    server_args=("-Verify", "1", "-CAfile", pki("ca.pem"),
                                 "-verify_return_error"),
                    client_args=("--cert", pki(f"{cert}-chain.pem"), "--key", pki(f"{cert}.key")))
                self.expect(client, r"Client certificate")
                self.expect(client, r"Subject: O ?= ?Petrel Test, CN ?= ?client\.test")

    def test_client_certificate_required_but_missing(self):
        _, port = self.openssl_server("-www", "-tls1_3", "-Verify", "1",
                                      "-CAfile", pki("ca.pem"))
        client, rc = self.run_petrel_client(port, send=GET)
        self.assertPetrelFailed(client, rc, r"certificate.required|\b116\b")

    def test_alpn(self):
        server, port = self.openssl_server("-tls1_3", "-alpn", "h2,http/1.1")
        client = self.petrel_client(port, "--alpn", "http/1.1")
        server.wait_for(r"ALPN protocols selected: http/1\.1")
        client.wait_for(r"http/1\.1", stream="err")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_sni_selects_certificate(self):
        # The default certificate is for other.test only; the one for SNI
        # "server.test" is valid. s_server sends no intermediate with its
        # second certificate, so the client trusts root and intermediate.
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as bundle:
            for name in ("ca.pem", "int-ca.pem"):
                with open(pki(name)) as f:
                    bundle.write(f.read())
        self.addCleanup(os.unlink, bundle.name)
        _, port = self.openssl_server(
            "-www", "-tls1_3", "-servername", "server.test",
            "-cert2", pki("server-p256.pem"), "-key2", pki("server-p256.key"), cert="wronghost")
        client, rc = self.run_petrel_client(port, "--cafile", bundle.name, send=GET,
                                            expect=PAGE_END, ca=False, servername="server.test")
        self.assertEqual(rc, 0)
        client, rc = self.run_petrel_client(port, "--cafile", bundle.name, send=GET, ca=False,
                                            servername="localhost", name="petrel client 2")
        self.assertPetrelFailed(client, rc, r"mismatch")

    def key_update_from_server(self, command):
        server, port = self.openssl_server("-tls1_3", "-msg")
        client = self.petrel_client(port)
        server.wait_for(r"CIPHER is")
        client.send("before\n")
        server.wait_for(r"\bbefore\b")
        mark = server.mark()
        server.send(f"{command}\n")
        server.wait_for(KEY_UPDATE_SENT, start=mark)
        server.send("from-server\n")
        client.wait_for(r"from-server")
        client.send("from-client\n")
        server.wait_for(r"\bfrom-client\b", start=mark)
        return server, client, mark

    def test_key_update_not_requested(self):
        _, client, _ = self.key_update_from_server("k")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_key_update_requested(self):
        # RFC 8446 4.6.3: update_requested obliges the peer to answer with its
        # own KeyUpdate before its next application data.
        server, client, mark = self.key_update_from_server("K")
        server.wait_for(KEY_UPDATE_RECEIVED, start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


class OpenSSLClientToPetrel(PeerTestCase):
    """openssl s_client against petrel server."""

    REQUIRED_PROGRAMS = ("openssl",)

    def handshake(self, server_args=(), client_args=(), cert="server-p256"):
        """s_client connects, must verify the server, and sees its line
        echoed. Returns (server, client)."""
        server, port = self.petrel_server(*server_args, cert=cert)
        client = self.openssl_client(port, *client_args)
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send("hello petrel\n")
        client.wait_for(r"hello petrel", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        return server, client

    def test_verify_ok_and_echo(self):
        _, client = self.handshake()
        self.expect(client, r"New, TLSv1\.3, Cipher is TLS_")

    def test_suites_chosen_by_petrel(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                _, client = self.handshake(server_args=("--ciphers", suite))
                self.expect(client, rf"Cipher is {suite}\b")

    def test_suites_chosen_by_openssl(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                _, client = self.handshake(client_args=("-ciphersuites", suite))
                self.expect(client, rf"Cipher is {suite}\b")

    def test_groups_chosen_by_petrel(self):
        for group in GROUPS:
            with self.subTest(group=group):
                _, client = self.handshake(server_args=("--groups", group),
                                           client_args=("-groups", "X25519:P-256:P-384"))
                self.expect(client, f"Server Temp Key: {TEMP_KEY[group]}")

    def test_groups_chosen_by_openssl(self):
        for group in GROUPS:
            with self.subTest(group=group):
                _, client = self.handshake(client_args=("-groups", OPENSSL_GROUP[group]))
                self.expect(client, f"Server Temp Key: {TEMP_KEY[group]}")

    def test_hello_retry_request(self):
        # s_client sends a key share for X25519 only; petrel accepts only
        # P-384 and must ask again with a HelloRetryRequest.
        _, client = self.handshake(server_args=("--groups", "P-384"),
                                   client_args=("-groups", "X25519:P-384", "-msg"))
        hellos = re.findall(r">>> TLS 1.3, Handshake \[length \w+\], ClientHello", client.text())
        self.assertEqual(len(hellos), 2, "s_client should send a second ClientHello after HRR")
        self.expect(client, "Server Temp Key: ECDH, secp384r1")

    def test_signature_algorithms_by_key_type(self):
        for cert, (_, peer_type) in SIGALGS.items():
            with self.subTest(cert=cert):
                _, client = self.handshake(cert=cert)
                self.expect(client, f"Peer signature type: {peer_type}")

    def test_client_certificate_required_and_sent(self):
        for cert in CLIENT_KEYS:
            with self.subTest(cert=cert):
                # The echo inside handshake() proves the server accepted it.
                self.handshake(
                    server_args=("--verify-mode", "required", "--cafile", pki("ca.pem")),
                    client_args=("-cert", pki(f"{cert}.pem"), "-key", pki(f"{cert}.key"),
                                 "-cert_chain", pki("int-ca.pem")))

    def test_client_certificate_required_but_missing(self):
        _, port = self.petrel_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        client = self.openssl_client(port)
        # TLS 1.3: the client finishes its side first, then reads the alert.
        client.wait_for(r"Verify return code")
        client.wait_for(r"(?i)alert certificate required|alert number 116", stream="any")

    def test_alpn(self):
        _, client = self.handshake(server_args=("--alpn", "h2,http/1.1"),
                                   client_args=("-alpn", "http/1.1"))
        self.expect(client, "ALPN protocol: http/1.1")

    def test_no_alpn_overlap_is_refused(self):
        # RFC 7301 3.2: no protocol in common is a fatal no_application_protocol.
        _, port = self.petrel_server("--alpn", "h2")
        client = self.openssl_client(port, "-alpn", "http/1.1")
        client.wait_for(r"(?i)no application protocol|alert number 120", stream="any")

    def key_update(self, command):
        _, port = self.petrel_server()
        client = self.openssl_client(port, "-msg")
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send(f"{command}\n")
        client.wait_for(KEY_UPDATE_SENT, start=mark)
        client.send("after update\n")
        client.wait_for(r"after update", start=mark)
        return client, mark

    def test_key_update_not_requested(self):
        client, _ = self.key_update("k")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_key_update_requested(self):
        client, mark = self.key_update("K")
        client.wait_for(KEY_UPDATE_RECEIVED, start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


if __name__ == "__main__":
    unittest.main()
