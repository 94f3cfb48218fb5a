"""Interop with GnuTLS (gnutls-serv, gnutls-cli), TLS 1.3, both directions:
data, every suite and group, client certificates, post-handshake
authentication and KeyUpdate from gnutls-cli.

gnutls-serv listens on every interface, so CTest runs this file inside a
private network namespace (netns.sh); it refuses to run outside one."""

import os
import unittest

from peers import GROUPS, SUITES, PeerTestCase, free_port, pki

TLS13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
GNUTLS_CIPHER = {
    "TLS_AES_128_GCM_SHA256": "AES-128-GCM",
    "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
    "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305",
}
GNUTLS_GROUP = {"x25519": "X25519", "P-256": "SECP256R1", "P-384": "SECP384R1"}


class GnuTLSCase(PeerTestCase):
    REQUIRED_PROGRAMS = ("gnutls-serv", "gnutls-cli")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.environ.get("PETREL_PRIVATE_NETNS") != "1":
            raise AssertionError("run through tests/interop/netns.sh (as CTest does): "
                                 "gnutls-serv would listen on every interface")

    def gnutls_server(self, *args):
        port = free_port()
        server = self.start("gnutls-serv", [
            "gnutls-serv", "--echo", "-p", str(port),
            "--x509certfile", pki("server-p256-chain.pem"),
            "--x509keyfile", pki("server-p256.key"), *args])
        server.wait_for(r"listening on IPv4 .* port \d+\.\.\.done", stream="any")
        return server, port

    def gnutls_client(self, port, *args):
        client = self.start("gnutls-cli", [
            "gnutls-cli", "--x509cafile", pki("ca.pem"), "-p", str(port),
            "--verify-hostname", "localhost", "--sni-hostname", "localhost", *args,
            "127.0.0.1"])
        return client


class PetrelClientToGnuTLS(GnuTLSCase):
    def echo(self, server_args=(), client_args=()):
        server, port = self.gnutls_server(*server_args)
        client, rc = self.run_petrel_client(port, *client_args, send=b"hello gnutls\n",
                                            expect=r"hello gnutls")
        self.assertEqual(rc, 0)
        return server, client

    def test_echo(self):
        _, client = self.echo(server_args=("-a",))
        self.expect(client, r"TLSv1\.3", "err")

    def test_suites(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                _, client = self.echo(
                    server_args=("-a", "--priority",
                                 f"{TLS13}:-CIPHER-ALL:+{GNUTLS_CIPHER[suite]}"))
                self.expect(client, suite, "err")

    def test_groups(self):
        for group, pattern in GROUPS.items():
            with self.subTest(group=group):
                _, client = self.echo(
                    server_args=("-a", "--priority",
                                 f"{TLS13}:-GROUP-ALL:+GROUP-{GNUTLS_GROUP[group]}"))
                self.expect(client, pattern, "err")

    def test_client_certificate_required(self):
        self.echo(server_args=("-r", "--verify-client-cert", "--x509cafile", pki("ca.pem")),
                  client_args=("--cert", pki("client-p256-chain.pem"),
                               "--key", pki("client-p256.key")))

    def test_client_certificate_required_but_missing(self):
        _, port = self.gnutls_server("-r", "--verify-client-cert", "--x509cafile", pki("ca.pem"))
        client, rc = self.run_petrel_client(port, send=b"hello\n")
        self.assertPetrelFailed(client, rc, r"certificate|alert")


class GnuTLSClientToPetrel(GnuTLSCase):
    def connect(self, server_args=(), client_args=()):
        _, port = self.petrel_server(*server_args)
        client = self.gnutls_client(port, *client_args)
        client.wait_for(r"- Handshake was completed")
        self.expect(client, r"- Status: The certificate is trusted")
        return client

    def echo(self, server_args=(), client_args=()):
        client = self.connect(server_args, client_args)
        mark = client.mark()
        client.send("hello petrel\n")
        client.wait_for(r"hello petrel", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        return client

    def test_echo(self):
        client = self.echo()
        self.expect(client, r"\(TLS1\.3-X\.509\)")

    def test_suites_chosen_by_gnutls(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                cipher = GNUTLS_CIPHER[suite]
                client = self.echo(client_args=("--priority", f"{TLS13}:-CIPHER-ALL:+{cipher}"))
                self.expect(client, rf"Description: .*\({cipher}\)")

    def test_suites_chosen_by_petrel(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                client = self.echo(server_args=("--ciphers", suite))
                self.expect(client, rf"Description: .*\({GNUTLS_CIPHER[suite]}\)")

    def test_groups_chosen_by_gnutls(self):
        for group in GROUPS:
            with self.subTest(group=group):
                name = GNUTLS_GROUP[group]
                client = self.echo(client_args=("--priority", f"{TLS13}:-GROUP-ALL:+GROUP-{name}"))
                self.expect(client, rf"Description: .*\(ECDHE-{name}\)")

    def test_groups_chosen_by_petrel(self):
        for group in GROUPS:
            with self.subTest(group=group):
                client = self.echo(server_args=("--groups", group))
                self.expect(client, rf"Description: .*\(ECDHE-{GNUTLS_GROUP[group]}\)")

    def test_client_certificate_required(self):
        self.echo(server_args=("--verify-mode", "required", "--cafile", pki("ca.pem")),
                  client_args=("--x509certfile", pki("client-p256-chain.pem"),
                               "--x509keyfile", pki("client-p256.key")))

    def test_post_handshake_auth(self):
        client = self.connect(
            server_args=("--commands", "--post-handshake-auth", "--verify-mode", "required",
                         "--cafile", pki("ca.pem")),
            client_args=("--post-handshake-auth", "--x509certfile",
                         pki("client-p256-chain.pem"), "--x509keyfile", pki("client-p256.key")))
        for line, answer in (("HASCERT", "FALSE"), ("PHA", "OK"), ("HASCERT", "TRUE")):
            mark = client.mark()
            client.send(line + "\n")
            client.wait_for(rf"(?m)^{answer}", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)

    def test_key_update(self):
        client = self.connect(client_args=("--inline-commands",))
        for command in ("^rekey^", "^rekey1^"):
            mark = client.mark()
            client.send(command + "\n")
            client.wait_for(r"- Rekey was completed", start=mark)
            client.send(f"after {command}\n")
            client.wait_for(rf"after \^rekey1?\^", start=mark)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)


if __name__ == "__main__":
    unittest.main()
