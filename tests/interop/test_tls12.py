"""TLS 1.2 interop (RFC 5246 with ECDHE and AEAD suites only), both
directions: every suite against OpenSSL, version negotiation, extended
master secret, client certificates, declined renegotiation, and Python's
ssl and curl limited to TLS 1.2."""

import re
import subprocess
import unittest

from peers import DEADLINE, PeerTestCase, clean_env, pki

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"

# IANA name -> (OpenSSL name, server leaf whose key the suite needs)
SUITES12 = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": ("ECDHE-ECDSA-AES128-GCM-SHA256", "server-p256"),
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": ("ECDHE-ECDSA-AES256-GCM-SHA384", "server-p256"),
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-ECDSA-CHACHA20-POLY1305",
                                                      "server-p256"),
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": ("ECDHE-RSA-AES128-GCM-SHA256", "server-rsa2048"),
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": ("ECDHE-RSA-AES256-GCM-SHA384", "server-rsa2048"),
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-RSA-CHACHA20-POLY1305",
                                                    "server-rsa2048"),
}


class PetrelClientTLS12(PeerTestCase):
    """petrel client against openssl s_server limited to TLS 1.2."""

    REQUIRED_PROGRAMS = ("openssl",)

    def fetch_page(self, server_args=(), client_args=("--max-version", "1.2"),
                   cert="server-p256"):
        _, port = self.openssl_server("-www", "-tls1_2", *server_args, cert=cert)
        client, rc = self.run_petrel_client(port, *client_args, send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0, "petrel client should exit 0 after the page")
        return client

    def test_suites_chosen_by_petrel(self):
        for suite, (name, cert) in SUITES12.items():
            with self.subTest(suite=suite):
                client = self.fetch_page(cert=cert, client_args=("--max-version", "1.2",
                                                                 "--ciphers", suite))
                self.expect(client, rf"New, TLSv1\.2, Cipher is {name}\b")
                self.expect(client, r"TLSv1\.2", "err")
                self.expect(client, suite, "err")

    def test_suites_chosen_by_openssl(self):
        for suite, (name, cert) in SUITES12.items():
            with self.subTest(suite=suite):
                client = self.fetch_page(server_args=("-cipher", name), cert=cert)
                self.expect(client, rf"New, TLSv1\.2, Cipher is {name}\b")
                self.expect(client, suite, "err")

    def test_version_negotiated_down_from_1_3(self):
        # petrel offers 1.2 and 1.3; a 1.2-only server gets 1.2.
        client = self.fetch_page(client_args=())
        self.expect(client, r"New, TLSv1\.2, Cipher is ECDHE-")
        self.expect(client, r"TLSv1\.2", "err")

    def test_minimum_1_3_refuses_a_1_2_server(self):
        _, port = self.openssl_server("-www", "-tls1_2")
        client, rc = self.run_petrel_client(port, "--min-version", "1.3", send=GET)
        self.assertPetrelFailed(client, rc, r"protocol.version|\b70\b|version")

    def test_extended_master_secret(self):
        # RFC 7627: the session must use the extended master secret.
        client = self.fetch_page()
        self.expect(client, r"Extended master secret: yes")

    def test_client_certificate(self):
        client = self.fetch_page(
            server_args=("-Verify", "1", "-CAfile", pki("ca.pem"), "-verify_return_error"),
            client_args=("--max-version", "1.2", "--cert", pki("client-p256-chain.pem"),
                         "--key", pki("client-p256.key")))
        self.expect(client, r"Subject: O ?= ?Petrel Test, CN ?= ?client\.test")

    def test_verification_failure(self):
        _, port = self.openssl_server("-www", "-tls1_2", cert="expired")
        client, rc = self.run_petrel_client(port, "--max-version", "1.2", send=GET)
        self.assertPetrelFailed(client, rc, r"certificate has expired")

    def test_renegotiation_declined(self):
        # A HelloRequest is answered with a no_renegotiation warning and no
        # new handshake (RFC 5246 7.4.1.1 and 7.2.2). OpenSSL's server then
        # ends the connection with handshake_failure, which petrel reports.
        server, port = self.openssl_server("-tls1_2", "-msg")
        client = self.petrel_client(port, "--max-version", "1.2")
        server.wait_for(r"CIPHER is")
        client.send("before\n")
        server.wait_for(r"\bbefore\b")
        mark = server.mark()
        server.send("r\n")
        server.wait_for(r">>> TLS 1.2, Handshake \[length \w+\], HelloRequest", start=mark)
        server.wait_for(r"<<< TLS 1.2, Alert \[length \w+\], warning no_renegotiation",
                        start=mark)
        found = re.search(r"<<< TLS 1.2, Handshake \[length \w+\], ClientHello",
                          server.text()[mark:])
        self.assertIsNone(found, "petrel should not start a new handshake")
        self.assertPetrelFailed(client, client.wait(), r"handshake.failure|\b40\b")


class PetrelServerTLS12(PeerTestCase):
    """s_client, Python's ssl and curl, limited to TLS 1.2, against petrel
    server."""

    REQUIRED_PROGRAMS = ("openssl", "curl")

    def handshake(self, server_args=(), client_args=("-tls1_2",), cert="server-p256"):
        _, port = self.petrel_server(*server_args, cert=cert)
        client = self.openssl_client(port, *client_args)
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send("hello petrel\n")
        client.wait_for(r"hello petrel", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        return client

    def test_suites_chosen_by_openssl(self):
        for suite, (name, cert) in SUITES12.items():
            with self.subTest(suite=suite):
                client = self.handshake(client_args=("-tls1_2", "-cipher", name), cert=cert)
                self.expect(client, rf"New, TLSv1\.2, Cipher is {name}\b")

    def test_suites_chosen_by_petrel(self):
        for suite, (name, cert) in SUITES12.items():
            with self.subTest(suite=suite):
                client = self.handshake(server_args=("--ciphers", suite), cert=cert)
                self.expect(client, rf"New, TLSv1\.2, Cipher is {name}\b")

    def test_maximum_1_2_server_with_default_client(self):
        client = self.handshake(server_args=("--max-version", "1.2"), client_args=())
        self.expect(client, r"New, TLSv1\.2, Cipher is ECDHE-")
        self.expect(client, r"Extended master secret: yes")

    def test_maximum_1_2_server_refuses_1_3_only_client(self):
        _, port = self.petrel_server("--max-version", "1.2")
        client = self.openssl_client(port, "-tls1_3")
        client.wait_for(r"(?i)alert protocol version|alert number 70", stream="any")

    def test_tls11_client_refused(self):
        _, port = self.petrel_server()
        client = self.openssl_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        client.wait_for(r"(?i)alert protocol version|alert number 70", stream="any")

    def test_client_renegotiation_refused(self):
        # RFC 5746 / RFC 5246 7.2.2: petrel answers a renegotiating
        # ClientHello with no_renegotiation; OpenSSL's client then gives up.
        _, port = self.petrel_server()
        client = self.openssl_client(port, "-tls1_2", "-msg")
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send("R\n")
        client.wait_for(r"<<< TLS 1.2, Alert \[length \w+\], warning no_renegotiation",
                        start=mark)
        client.wait_for(r"(?i)no renegotiation", stream="err")

    def test_client_certificate_required(self):
        self.handshake(server_args=("--verify-mode", "required", "--cafile", pki("ca.pem")),
                       client_args=("-tls1_2", "-cert", pki("client-p256.pem"),
                                    "-key", pki("client-p256.key"),
                                    "-cert_chain", pki("int-ca.pem")))

    def test_client_certificate_required_but_missing(self):
        _, port = self.petrel_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        client = self.openssl_client(port, "-tls1_2")
        # In TLS 1.2 the server refuses before its Finished (RFC 5246 7.4.6).
        client.wait_for(r"(?i)alert handshake failure|alert bad certificate|"
                        r"alert certificate required|alert number (40|42|116)", stream="any")

    def test_python_client(self):
        _, port = self.petrel_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--max-version", "1.2",
                                    "--echo", "100000")
        self.assertEqual(client.wait(timeout=60), 0)
        self.expect(client, r"version=TLSv1\.2 cipher=ECDHE-")
        self.expect(client, r"echo ok 100000\b")

    def test_python_client_no_pha_in_tls12(self):
        _, port = self.petrel_server("--commands", "--post-handshake-auth", "--verify-mode",
                                     "required", "--cafile", pki("ca.pem"))
        client = self.python_client(port, "--cafile", "ca.pem", "--max-version", "1.2", "--pha",
                                    "--cert", "client-p256", "--command", "VERSION",
                                    "--command", "PHA", "--command", "QUIT")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"reply VERSION -> TLSv1\.2")
        self.expect(client, r"reply PHA -> ERROR \S")
        self.expect(client, r"reply QUIT -> BYE")

    def test_curl(self):
        _, port = self.petrel_server("--http")
        argv = ["curl", "-sS", "-v", "--noproxy", "*", "--max-time", str(int(DEADLINE)),
                "--tls-max", "1.2", "--cacert", pki("ca.pem"),
                "--resolve", f"localhost:{port}:127.0.0.1", f"https://localhost:{port}/"]
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              env=clean_env(), timeout=DEADLINE + 5)
        if proc.returncode != 0 or not re.search(r"SSL connection using TLSv1\.2 / ECDHE-",
                                                 proc.stderr):
            self.fail(f"curl over TLS 1.2 failed (exit {proc.returncode}):\n{proc.stderr}")


class PythonServerTLS12(PeerTestCase):
    def test_petrel_client_to_python_tls12_server(self):
        server, port = self.python_server("--cert", "server-rsa2048", "--max-version", "1.2")
        client, rc = self.run_petrel_client(port, send=b"hello 1.2\n", expect=r"hello 1\.2")
        self.assertEqual(rc, 0)
        server.wait_for(r"handshake version=TLSv1\.2 cipher=ECDHE-RSA-")
        self.expect(client, r"TLSv1\.2", "err")


if __name__ == "__main__":
    unittest.main()
