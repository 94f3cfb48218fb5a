"""Interop with Python's ssl module (the system's /usr/bin/python3 and its
OpenSSL), run as separate processes: data exchange both ways, large
transfers, client certificates, ALPN and SNI."""

import os
import unittest

from peers import PeerTestCase, pki

BIG = 300_000  # bytes: many full records, both ways


class PythonClientToPetrel(PeerTestCase):
    """Python ssl client against petrel server."""

    def test_echo_small(self):
        _, port = self.petrel_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--echo", "100")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"handshake version=TLSv1\.3 cipher=TLS_\w+")
        self.expect(client, r"echo ok 100\b")
        self.expect(client, r"^closed$|\nclosed\n")

    def test_echo_large(self):
        _, port = self.petrel_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--echo", str(BIG))
        self.assertEqual(client.wait(timeout=60), 0)
        self.expect(client, rf"echo ok {BIG}\b")

    def test_key_types(self):
        for cert in ("server-p256", "server-p384", "server-rsa2048", "server-ed25519",
                     "server-rsapss"):
            with self.subTest(cert=cert):
                _, port = self.petrel_server(cert=cert)
                client = self.python_client(port, "--cafile", "ca.pem", "--echo", "1000",
                                            name=f"python client {cert}")
                self.assertEqual(client.wait(), 0)
                self.expect(client, r"echo ok 1000\b")

    def test_sni_server_test(self):
        _, port = self.petrel_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--servername", "server.test",
                                    "--echo", "10")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"echo ok 10\b")

    def test_alpn(self):
        _, port = self.petrel_server("--alpn", "h2,http/1.1")
        client = self.python_client(port, "--cafile", "ca.pem", "--alpn", "http/1.1",
                                    "--echo", "10")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"alpn=http/1\.1")

    def test_tls13_only_client(self):
        _, port = self.petrel_server()
        client = self.python_client(port, "--cafile", "ca.pem", "--min-version", "1.3",
                                    "--echo", "10")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"version=TLSv1\.3")

    def test_client_certificate_in_handshake(self):
        _, port = self.petrel_server("--commands", "--verify-mode", "required",
                                     "--cafile", pki("ca.pem"))
        client = self.python_client(port, "--cafile", "ca.pem", "--cert", "client-p256",
                                    "--command", "HASCERT", "--command", "GETCERT",
                                    "--command", "VERSION", "--command", "QUIT")
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"reply HASCERT -> TRUE")
        self.expect(client, r"reply GETCERT -> subject=.*client\.test")
        self.expect(client, r"reply VERSION -> TLSv1\.3")
        self.expect(client, r"reply QUIT -> BYE")

    def test_client_certificate_required_but_missing(self):
        _, port = self.petrel_server("--commands", "--verify-mode", "required",
                                     "--cafile", pki("ca.pem"))
        # The client only reads: writing could race with the server's close.
        client = self.python_client(port, "--cafile", "ca.pem", "--read")
        self.assertNotEqual(client.wait(), 0)
        self.expect(client, r"(?i)error: .*certificate.required")


class PetrelClientToPython(PeerTestCase):
    """petrel client against a Python ssl echo server."""

    def test_echo_small(self):
        server, port = self.python_server("--cert", "server-p256")
        client, rc = self.run_petrel_client(port, send=b"hello python\n", expect=r"hello python")
        self.assertEqual(rc, 0)
        server.wait_for(r"handshake version=TLSv1\.3")
        self.assertEqual(server.wait(), 0)
        self.expect(server, r"received 13 bytes")

    def test_echo_large(self):
        # Text lines so the end is recognisable; every byte must come back.
        lines = [f"{i:06d} {os.urandom(24).hex()}\n" for i in range(BIG // 56)]
        data = "".join(lines).encode() + b"END\n"
        server, port = self.python_server("--cert", "server-p256")
        client = self.petrel_client(port)
        client.send(data)
        client.wait_for(r"END\n", timeout=60)
        self.assertEqual(client.text().encode("latin-1"), data)
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        self.assertEqual(server.wait(), 0)
        self.expect(server, rf"received {len(data)} bytes")

    def test_client_certificate_in_handshake(self):
        server, port = self.python_server("--cert", "server-p256", "--cafile", "ca.pem",
                                          "--verify-mode", "required")
        client, rc = self.run_petrel_client(
            port, "--cert", pki("client-p256-chain.pem"), "--key", pki("client-p256.key"),
            send=b"ping\n", expect=r"ping")
        self.assertEqual(rc, 0)
        server.wait_for(r"handshake .*peer=organizationName=Petrel Test,commonName=client\.test")

    def test_alpn(self):
        server, port = self.python_server("--cert", "server-p256", "--alpn", "h2,http/1.1")
        client, rc = self.run_petrel_client(port, "--alpn", "http/1.1", send=b"x\n",
                                            expect=r"x")
        self.assertEqual(rc, 0)
        server.wait_for(r"alpn=http/1\.1")
        self.expect(client, r"http/1\.1", "err")

    def test_server_key_types(self):
        for cert in ("server-p384", "server-rsa2048", "server-ed25519", "server-rsapss"):
            with self.subTest(cert=cert):
                _, port = self.python_server("--cert", cert, name=f"python server {cert}")
                client, rc = self.run_petrel_client(port, send=b"ping\n", expect=r"ping",
                                                    name=f"petrel client {cert}")
                self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
