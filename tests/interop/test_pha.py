"""TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2), both roles.

petrel server --commands answers lines: PHA (request a certificate now) ->
OK / ERROR <sentence>; HASCERT -> TRUE/FALSE; GETCERT -> NONE or
subject=... issuer=...; VERSION; CIPHER; VERIFIEDCHAIN; UNVERIFIEDCHAIN;
QUIT -> BYE; anything else is echoed."""

import re
import unittest

from peers import PeerTestCase, pki

CLIENT_CERT = ("--cert", pki("client-p256-chain.pem"), "--key", pki("client-p256.key"))


class PetrelServerPHA(PeerTestCase):
    """petrel server asking a Python ssl client, then s_client, after the
    handshake."""

    REQUIRED_PROGRAMS = ("openssl",)

    def command_server(self, mode="required"):
        _, port = self.petrel_server("--commands", "--post-handshake-auth",
                                     "--verify-mode", mode, "--cafile", pki("ca.pem"))
        return port

    def test_python_client_with_certificate(self):
        port = self.command_server()
        client = self.python_client(
            port, "--cafile", "ca.pem", "--pha", "--cert", "client-p256",
            "--command", "HASCERT", "--command", "PHA", "--command", "HASCERT",
            "--command", "GETCERT", "--command", "VERIFIEDCHAIN", "--command", "VERSION",
            "--command", "QUIT")
        self.assertEqual(client.wait(), 0)
        # RFC 8446 4.6.2: with PHA the handshake itself carries no request.
        self.expect(client, r"reply HASCERT -> FALSE")
        self.expect(client, r"reply PHA -> OK")
        self.expect(client, r"reply HASCERT -> FALSE[\s\S]*reply HASCERT -> TRUE")
        self.expect(client, r"reply GETCERT -> subject=.*client\.test.*issuer=.*Intermediate")
        self.expect(client, r"reply VERIFIEDCHAIN -> .*\S")
        self.expect(client, r"reply VERSION -> TLSv1\.3")
        self.expect(client, r"reply QUIT -> BYE")

    def test_python_client_without_certificate_required(self):
        port = self.command_server("required")
        # The client only reads after PHA: writing could race with the
        # server's fatal alert and turn it into a connection reset.
        client = self.python_client(port, "--cafile", "ca.pem", "--pha",
                                    "--command", "PHA", "--read")
        client.wait()
        out = client.text()
        refused = re.search(r"reply PHA -> ERROR .*certificate", out, re.IGNORECASE) or \
            re.search(r"error: .*certificate.required", out, re.IGNORECASE)
        self.assertTrue(refused, "the server should refuse an empty certificate "
                                 "(certificate_required, RFC 8446 4.4.2.4)")

    def test_python_client_without_certificate_optional(self):
        port = self.command_server("optional")
        client = self.python_client(port, "--cafile", "ca.pem", "--pha",
                                    "--command", "PHA", "--command", "HASCERT",
                                    "--command", "GETCERT", "--command", "QUIT")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"reply PHA -> OK")
        self.expect(client, r"reply HASCERT -> FALSE")
        self.expect(client, r"reply GETCERT -> NONE")
        self.expect(client, r"reply QUIT -> BYE")

    def test_python_client_without_pha_extension(self):
        # A client that did not offer post_handshake_auth must not be asked
        # (RFC 8446 4.6.2); the connection stays usable.
        port = self.command_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--cert", "client-p256",
                                    "--command", "PHA", "--command", "HASCERT",
                                    "--command", "hello", "--command", "QUIT")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"reply PHA -> ERROR \S.*")
        self.expect(client, r"reply HASCERT -> FALSE")
        self.expect(client, r"reply hello -> hello")
        self.expect(client, r"reply QUIT -> BYE")

    def s_client_commands(self, *client_args):
        port = self.command_server()
        client = self.openssl_client(port, *client_args)
        client.wait_for(r"Verify return code: 0 \(ok\)")
        return client

    def ask(self, client, line, answer):
        mark = client.mark()
        client.send(line + "\n")
        return client.wait_for(rf"(?m)^{answer}", start=mark)

    def test_openssl_client_enable_pha(self):
        client = self.s_client_commands("-enable_pha", "-cert", pki("client-p256.pem"),
                                        "-key", pki("client-p256.key"),
                                        "-cert_chain", pki("int-ca.pem"))
        self.ask(client, "HASCERT", "FALSE")
        self.ask(client, "PHA", "OK")
        self.ask(client, "HASCERT", "TRUE")
        self.ask(client, "GETCERT", r"subject=.*client\.test")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_openssl_client_without_enable_pha(self):
        client = self.s_client_commands("-cert", pki("client-p256.pem"),
                                        "-key", pki("client-p256.key"))
        self.ask(client, "PHA", r"ERROR \S")
        self.ask(client, "HASCERT", "FALSE")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


class PetrelClientPHA(PeerTestCase):
    """petrel client answering a certificate request after the handshake."""

    REQUIRED_PROGRAMS = ("openssl",)

    def python_pha_server(self):
        return self.python_server("--cert", "server-p256", "--cafile", "ca.pem",
                                  "--verify-mode", "required", "--pha", "--pha-request")

    def test_python_server_requests_certificate(self):
        server, port = self.python_pha_server()
        client = self.petrel_client(port, "--post-handshake-auth", *CLIENT_CERT)
        client.send("first\n")
        client.wait_for(r"REQUESTED")
        client.send("second\n")
        server.wait_for(r"pha peer=organizationName=Petrel Test,commonName=client\.test")
        client.wait_for(r"CERT organizationName=Petrel Test,commonName=client\.test")
        client.send("after\n")
        client.wait_for(r"after")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        self.assertEqual(server.wait(), 0)

    def test_python_server_request_without_extension(self):
        server, port = self.python_pha_server()
        client = self.petrel_client(port, *CLIENT_CERT)
        client.send("first\n")
        server.wait_for(r"(?i)error: .*extension not received")

    def test_python_server_request_without_certificate(self):
        server, port = self.python_pha_server()
        client = self.petrel_client(port, "--post-handshake-auth")
        client.send("first\n")
        client.wait_for(r"REQUESTED")
        # The server may already have refused the empty answer and closed.
        client.send_if_open("second\n")
        server.wait_for(r"(?i)error: .*(did not return a certificate|certificate required)")
        self.assertPetrelFailed(client, client.wait(), r"certificate.required|\b116\b")

    def openssl_c_command(self, *client_args):
        """s_server -verify 1 sends a CertificateRequest after the handshake
        on its 'c' command. Returns (server, client, mark)."""
        server, port = self.openssl_server("-tls1_3", "-verify", "1", "-CAfile", pki("ca.pem"),
                                           "-msg")
        client = self.petrel_client(port, *client_args)
        server.wait_for(r"CIPHER is")
        client.send("hello\n")
        server.wait_for(r"\bhello\b")
        mark = server.mark()
        server.send("c\n")
        return server, client, mark

    def test_openssl_server_c_command(self):
        for cert in ("client-p256", "client-p384", "client-rsa2048", "client-rsapss",
                     "client-ed25519"):
            with self.subTest(cert=cert):
                self.c_command_with(cert)

    def c_command_with(self, cert):
        server, client, mark = self.openssl_c_command(
            "--post-handshake-auth", "--cert", pki(f"{cert}-chain.pem"),
            "--key", pki(f"{cert}.key"))
        server.wait_for(r">>> TLS 1.3, Handshake \[length \w+\], CertificateRequest", start=mark)
        server.wait_for(r"<<< TLS 1.3, Handshake \[length \w+\], Certificate\b", start=mark)
        server.wait_for(r"<<< TLS 1.3, Handshake \[length \w+\], CertificateVerify", start=mark)
        server.wait_for(r"<<< TLS 1.3, Handshake \[length \w+\], Finished", start=mark)
        client.send("still here\n")
        server.wait_for(r"still here", start=mark)
        server.send("bye\n")
        client.wait_for(r"bye")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_openssl_server_c_command_without_extension(self):
        server, client, mark = self.openssl_c_command(*CLIENT_CERT)
        server.wait_for(r"Failed to initiate request|extension not received", stream="any")
        client.send("still here\n")
        server.wait_for(r"still here", start=mark)


class PetrelToPetrel(PeerTestCase):
    """Both ends are the petrel command: the client answers the server's
    post-handshake request from its --cert."""

    def command_server(self, mode="required"):
        _, port = self.petrel_server("--commands", "--post-handshake-auth",
                                     "--verify-mode", mode, "--cafile", pki("ca.pem"))
        return port

    def ask(self, client, line, answer):
        mark = client.mark()
        client.send(line + "\n")
        return client.wait_for(rf"(?m)^{answer}", start=mark)

    def test_with_certificate(self):
        client = self.petrel_client(self.command_server(), "--post-handshake-auth", *CLIENT_CERT)
        self.ask(client, "HASCERT", "FALSE")
        self.ask(client, "PHA", "OK")
        self.ask(client, "HASCERT", "TRUE")
        self.ask(client, "GETCERT", r"subject=.*client\.test")
        self.ask(client, "VERSION", r"TLSv1\.3")
        self.ask(client, "PHA", "OK")  # a second round on the same connection
        self.ask(client, "QUIT", "BYE")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_without_certificate_optional(self):
        client = self.petrel_client(self.command_server("optional"), "--post-handshake-auth")
        self.ask(client, "PHA", "OK")
        self.ask(client, "HASCERT", "FALSE")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_without_extension(self):
        client = self.petrel_client(self.command_server(), *CLIENT_CERT)
        self.ask(client, "PHA", r"ERROR \S")
        self.ask(client, "HASCERT", "FALSE")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


if __name__ == "__main__":
    unittest.main()
