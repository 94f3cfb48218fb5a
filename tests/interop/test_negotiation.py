"""Negotiation edge cases against OpenSSL: nothing in common (suite, group,
signature algorithm) must end with handshake_failure (RFC 8446 4.1.1), and
offers petrel does not implement (external PSK, OCSP status request,
middlebox compatibility off) must be ignored, not fatal."""

import unittest

from peers import PeerTestCase

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"
HANDSHAKE_FAILURE = r"(?i)alert handshake failure|alert number 40"


class PetrelServerNegotiation(PeerTestCase):
    REQUIRED_PROGRAMS = ("openssl",)

    def refused(self, *client_args, reason):
        server, port = self.petrel_server()
        client = self.openssl_client(port, *client_args)
        client.wait_for(HANDSHAKE_FAILURE, stream="any")
        server.wait_for(rf"petrel: handshake failed: .*{reason}.*handshake_failure", stream="err")

    def test_no_common_signature_algorithm(self):
        # A P-256 key can only sign with ecdsa_secp256r1_sha256 in TLS 1.3.
        self.refused("-sigalgs", "ECDSA+SHA384", reason="signature algorithm")

    def test_no_common_group(self):
        self.refused("-groups", "ffdhe2048", reason="group")

    def test_no_common_suite(self):
        self.refused("-ciphersuites", "TLS_AES_128_CCM_SHA256", reason="cipher suite")

    def accepted(self, *client_args):
        _, port = self.petrel_server()
        client = self.openssl_client(port, *client_args)
        client.wait_for(r"Verify return code: 0 \(ok\)")
        mark = client.mark()
        client.send("still fine\n")
        client.wait_for(r"still fine", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        return client

    def test_without_middlebox_compatibility(self):
        # No ChangeCipherSpec and an empty legacy_session_id (RFC 8446 D.4).
        self.accepted("-no_middlebox")

    def test_status_request_ignored(self):
        self.accepted("-status")

    def test_external_psk_offer_ignored(self):
        # The PSK is unknown to petrel: a full handshake with the certificate.
        client = self.accepted("-psk_identity", "someone",
                               "-psk", "000102030405060708090a0b0c0d0e0f")
        self.expect(client, r"Peer signature type: ECDSA")

    def test_sequential_connections(self):
        server, port = self.petrel_server()
        for i in range(3):
            client = self.openssl_client(port, name=f"openssl s_client {i}")
            client.wait_for(r"Verify return code: 0 \(ok\)")
            mark = client.mark()
            client.send(f"connection {i}\n")
            client.wait_for(rf"connection {i}", start=mark)
            client.close_stdin()
            self.assertEqual(client.wait(), 0)
        self.assertTrue(server.running(), "petrel server should keep serving")


class PetrelClientNegotiation(PeerTestCase):
    REQUIRED_PROGRAMS = ("openssl",)

    def refused(self, server_args, client_args=()):
        _, port = self.openssl_server("-www", "-tls1_3", *server_args)
        client, rc = self.run_petrel_client(port, *client_args, send=GET)
        self.assertPetrelFailed(client, rc, r"handshake.failure|\b40\b")

    def test_server_has_no_suite_of_ours(self):
        self.refused(("-ciphersuites", "TLS_AES_128_CCM_SHA256",))

    def test_no_common_suite(self):
        self.refused(("-ciphersuites", "TLS_AES_256_GCM_SHA384"),
                     ("--ciphers", "TLS_AES_128_GCM_SHA256"))

    def test_no_common_group(self):
        self.refused(("-groups", "X25519"), ("--groups", "P-256"))

    def test_server_without_middlebox_compatibility(self):
        _, port = self.openssl_server("-www", "-tls1_3", "-no_middlebox")
        _, rc = self.run_petrel_client(port, send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0)

    def test_server_sends_no_tickets(self):
        _, port = self.openssl_server("-www", "-tls1_3", "-num_tickets", "0")
        _, rc = self.run_petrel_client(port, send=GET, expect=PAGE_END)
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
