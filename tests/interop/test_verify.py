"""Certificate verification from the petrel command line: a petrel client
against `openssl s_server -www` presenting each certificate of the test PKI.
Each failure checks petrel's exit status and its "petrel: ..." sentence;
each success checks that the page arrived and petrel exited 0."""

import unittest

from peers import PETREL, PeerTestCase, pki

GET = b"GET / HTTP/1.0\r\n\r\n"
PAGE_END = r"</(HTML|html)>"


class Verification(PeerTestCase):
    REQUIRED_PROGRAMS = ("openssl",)

    def serve(self, cert, *server_args, chain=True):
        """s_server -www with the leaf cert; the intermediate is sent too
        unless chain is False. Returns the port."""
        args = ["-www", "-tls1_3", *server_args]
        if chain:
            _, port = self.openssl_server(*args, cert=cert)
        else:
            _, port = self.openssl_server("-cert", pki(f"{cert}.pem"), "-key", pki(f"{cert}.key"),
                                          *args, cert=None)
        return port

    def accepted(self, port, *client_args, **kw):
        client, rc = self.run_petrel_client(port, *client_args, send=GET, expect=PAGE_END, **kw)
        self.assertEqual(rc, 0, "petrel client should succeed")
        return client

    def refused(self, port, pattern, *client_args, **kw):
        client, rc = self.run_petrel_client(port, *client_args, send=GET, **kw)
        self.assertPetrelFailed(client, rc, pattern)
        self.expect_not(client, r"HTTP/1\.0 200")
        return client

    # --- trust ---

    def test_good_chain_with_cafile(self):
        self.accepted(self.serve("server-p256"))

    def test_good_chain_with_capath(self):
        self.accepted(self.serve("server-p256"), "--capath", pki("capath"), ca=False)

    def test_ip_address_checked_against_ip_san(self):
        # No --servername: the IP literal is checked against IP:127.0.0.1.
        self.accepted(self.serve("server-p256"), servername=None)

    def test_untrusted_issuer(self):
        port = self.serve("untrusted", chain=False)
        self.refused(port, r"unable to get local issuer certificate")

    def test_no_trust_anchor_given(self):
        # The system store does not know the test root.
        self.refused(self.serve("server-p256"), r"unable to get local issuer certificate",
                     ca=False)

    def test_verify_mode_none_accepts_untrusted(self):
        port = self.serve("untrusted", chain=False)
        self.accepted(port, "--verify-mode", "none", "--no-check-hostname")

    # --- validity period ---

    def test_expired(self):
        self.refused(self.serve("expired"), r"certificate has expired")

    def test_not_yet_valid(self):
        self.refused(self.serve("notyet"), r"certificate is not yet valid")

    # --- host names ---

    def test_wrong_host(self):
        self.refused(self.serve("wronghost"), r"hostname mismatch|mismatch.*localhost")

    def test_wrong_ip_address(self):
        self.refused(self.serve("wronghost"), r"mismatch", servername=None)

    def test_wrong_host_accepted_without_hostname_check(self):
        self.accepted(self.serve("wronghost"), "--no-check-hostname")

    def test_common_name_fallback_on_by_default(self):
        # No subjectAltName at all: the CN "localhost" is used (Python's
        # hostname_checks_common_name default).
        self.accepted(self.serve("cnonly"))

    def test_common_name_fallback_off(self):
        self.refused(self.serve("cnonly"), r"hostname mismatch|mismatch.*localhost",
                     "--no-hostname-cn")

    # --- revocation ---

    def test_revoked_without_crl_check_is_accepted(self):
        self.accepted(self.serve("revoked"))

    def test_revoked_with_crlfile(self):
        self.refused(self.serve("revoked"), r"certificate revoked",
                     "--crlfile", pki("int-ca.crl.pem"), "--verify-flag", "crl-check-leaf")

    def test_revoked_with_crl_in_cafile(self):
        self.refused(self.serve("revoked"), r"certificate revoked",
                     "--cafile", pki("ca-with-crl.pem"), "--verify-flag", "crl-check-leaf",
                     ca=False)

    def test_good_leaf_with_crl_check(self):
        self.accepted(self.serve("server-p256"),
                      "--crlfile", pki("int-ca.crl.pem"), "--verify-flag", "crl-check-leaf")

    def test_crl_check_without_crl(self):
        self.refused(self.serve("server-p256"), r"unable to get certificate CRL",
                     "--verify-flag", "crl-check-leaf")

    # --- key strength ---

    def test_rsa1024_refused_at_security_level_2(self):
        port = self.serve("rsa1024", "-cipher", "DEFAULT:@SECLEVEL=0")
        self.refused(port, r"key too (weak|small)|security level", "--security-level", "2")

    def test_rsa1024_refused_by_default(self):
        port = self.serve("rsa1024", "-cipher", "DEFAULT:@SECLEVEL=0")
        self.refused(port, r"key too (weak|small)|security level")

    def test_rsa1024_accepted_at_security_level_1(self):
        port = self.serve("rsa1024", "-cipher", "DEFAULT:@SECLEVEL=0")
        self.accepted(port, "--security-level", "1")

    # --- the server side: petrel server verifying a client ---

    def test_server_refuses_expired_client_certificate(self):
        _, port = self.petrel_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        client = self.openssl_client(port, "-cert", pki("client-expired.pem"), "-key",
                                     pki("client-expired.key"), "-cert_chain", pki("int-ca.pem"))
        client.wait_for(r"Verify return code: 0 \(ok\)")
        client.wait_for(r"(?i)alert certificate expired|alert number 45", stream="any")

    def test_server_refuses_untrusted_client_certificate(self):
        _, port = self.petrel_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        client = self.openssl_client(port, "-cert", pki("untrusted.pem"), "-key",
                                     pki("untrusted.key"))
        client.wait_for(r"Verify return code: 0 \(ok\)")
        client.wait_for(r"(?i)alert unknown ca|alert number 48", stream="any")


class ConfigurationErrors(PeerTestCase):
    """Mistakes in what petrel is given: exit status 1 with the file and the
    reason named, or 2 for a malformed command line."""

    def run_petrel(self, *args):
        peer = self.start("petrel", [PETREL, *args])
        peer.close_stdin()
        return peer, peer.wait()

    def test_missing_ca_file(self):
        peer, rc = self.run_petrel("client", "127.0.0.1:9", "--cafile", pki("no-such-file.pem"))
        self.assertPetrelFailed(peer, rc, r"no-such-file\.pem.*No such file")

    def test_key_does_not_match_certificate(self):
        peer, rc = self.run_petrel("server", "--listen", "127.0.0.1:0",
                                   "--cert", pki("server-p256-chain.pem"),
                                   "--key", pki("client-p256.key"))
        self.assertPetrelFailed(peer, rc, r"does not match")

    def test_encrypted_key_without_password(self):
        peer, rc = self.run_petrel("server", "--listen", "127.0.0.1:0",
                                   "--cert", pki("server-p256-chain.pem"),
                                   "--key", pki("server-p256-enc.key"))
        self.assertPetrelFailed(peer, rc, r"encrypted")

    def test_weak_own_key_refused_at_level_2(self):
        # OpenSSL's rule: our own RSA 1024 key is below security level 2.
        peer, rc = self.run_petrel("server", "--listen", "127.0.0.1:0",
                                   "--cert", pki("rsa1024-chain.pem"), "--key", pki("rsa1024.key"))
        self.assertPetrelFailed(peer, rc, r"security level|too (weak|small)")

    def test_bad_option_value_is_a_usage_error(self):
        peer, rc = self.run_petrel("client", "127.0.0.1:9", "--verify-mode", "sometimes")
        self.assertEqual(rc, 2)
        self.expect(peer, r"--verify-mode", "err")


if __name__ == "__main__":
    unittest.main()
