"""TLS 1.3 session resumption (PSK with (EC)DHE) against real peers on
127.0.0.1: Python's ssl and openssl s_client resuming with `petrel server`,
and `petrel client --reconnect` resuming with openssl s_server and a Python
ssl server."""

import os
import shutil
import socket
import ssl
import tempfile
import threading
import unittest

from peers import PeerTestCase, pki, DEADLINE


def python_client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki("ca.pem"))
    return ctx


def python_echo(ctx, port, session=None):
    """One connection to the petrel echo server: sends a line, reads it back
    (which also takes in the tickets), and closes. Returns (session,
    session_reused, DER of the peer certificate)."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as conn:
            conn.sendall(b"ping\n")
            got = b""
            while got != b"ping\n":
                data = conn.recv(64)
                if not data:
                    break
                got += data
            reused = conn.session_reused
            der = conn.getpeercert(binary_form=True)
            sess = conn.session
            conn.unwrap()
    return sess, reused, der


class PythonClientResumes(PeerTestCase):
    """Python's ssl client resumes a session of `petrel server`."""

    def test_session_reused(self):
        server, port = self.petrel_server()
        ctx = python_client_ctx()
        sess, reused, der1 = python_echo(ctx, port)
        self.assertFalse(reused)
        self.assertIsNotNone(sess)
        self.assertTrue(sess.has_ticket)
        _, reused, der2 = python_echo(ctx, port, session=sess)
        self.assertTrue(reused)
        self.assertEqual(der1, der2)
        server.wait_for(r"session: resumed", stream="err")

    def test_every_suite(self):
        for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256"):
            with self.subTest(suite=suite):
                server, port = self.petrel_server("--ciphers", suite,
                                                  name=f"petrel server {suite}")
                ctx = python_client_ctx()
                sess, _, _ = python_echo(ctx, port)
                _, reused, _ = python_echo(ctx, port, session=sess)
                self.assertTrue(reused)
                server.stop()

    def test_no_tickets(self):
        server, port = self.petrel_server("--num-tickets", "0")
        ctx = python_client_ctx()
        sess, _, _ = python_echo(ctx, port)
        self.assertFalse(sess is not None and sess.has_ticket)
        _, reused, _ = python_echo(ctx, port, session=sess)
        self.assertFalse(reused)
        self.expect_not(server, r"session: resumed", stream="err")


class OpensslClientResumes(PeerTestCase):
    """openssl s_client -sess_out, then -sess_in, against `petrel server`."""

    def s_client(self, port, *args, name):
        client = self.openssl_client(port, *args, name=name)
        client.send(b"hello\n")
        client.wait_for(r"hello")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        return client

    def resume(self, *server_args):
        server, port = self.petrel_server(*server_args)
        path = os.path.join(self.tmpdir, "session.pem")
        first = self.s_client(port, "-sess_out", path, name="openssl s_client first")
        self.expect(first, r"New, TLSv1\.3")
        self.assertTrue(os.path.getsize(path) > 0)
        second = self.s_client(port, "-sess_in", path, name="openssl s_client second")
        return server, second

    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.mkdtemp(prefix="petrel-resume-")
        self.addCleanup(shutil.rmtree, self.tmpdir, ignore_errors=True)

    def test_reused(self):
        server, second = self.resume()
        self.expect(second, r"Reused, TLSv1\.3")
        server.wait_for(r"session: resumed", stream="err")

    def test_hello_retry_request(self):
        # The client's key share (x25519) is not the server's group: HRR,
        # and the binder is recomputed over the second ClientHello.
        server, port = self.petrel_server("--groups", "P-256")
        path = os.path.join(self.tmpdir, "session-hrr.pem")
        self.s_client(port, "-sess_out", path, "-groups", "x25519:P-256",
                      name="openssl s_client first")
        second = self.s_client(port, "-sess_in", path, "-groups", "x25519:P-256",
                               name="openssl s_client second")
        self.expect(second, r"Reused, TLSv1\.3")

    def test_no_tickets(self):
        # Without a ticket, s_client has no TLS 1.3 session to write out.
        _, port = self.petrel_server("--num-tickets", "0")
        path = os.path.join(self.tmpdir, "session-none.pem")
        first = self.s_client(port, "-sess_out", path, name="openssl s_client first")
        self.expect(first, r"New, TLSv1\.3")
        self.assertFalse(os.path.exists(path))


class EarlyDataSkipped(PeerTestCase):
    """A client offers 0-RTT data on a ticket from another server of the same
    name (openssl s_server -early_data): `petrel server` cannot resume it,
    skips the early data (RFC 8446 4.2.10) and completes a full handshake."""

    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.mkdtemp(prefix="petrel-early-")
        self.addCleanup(shutil.rmtree, self.tmpdir, ignore_errors=True)
        self.early = os.path.join(self.tmpdir, "early.txt")
        with open(self.early, "wb") as f:
            f.write(b"early line that must not be taken\n" * 100)

    def ticket_with_early_data(self, *server_args):
        server, port = self.openssl_server("-early_data", *server_args,
                                           name="openssl s_server (0-RTT)")
        path = os.path.join(self.tmpdir, "session-0rtt.pem")
        client = self.openssl_client(port, "-sess_out", path, name="openssl s_client first")
        client.send(b"hello\n")
        server.wait_for(r"hello")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        server.stop()
        self.assertTrue(os.path.getsize(path) > 0)
        return path

    def offer(self, port, path, *args):
        client = self.openssl_client(port, "-sess_in", path, "-early_data", self.early, *args,
                                     name="openssl s_client with early data")
        client.send(b"after the handshake\n")
        client.wait_for(r"after the handshake")
        client.close_stdin()
        self.assertEqual(client.wait(), 0)
        self.expect(client, r"Early data was rejected")
        self.expect(client, r"New, TLSv1\.3")
        self.expect_not(client, r"early line")
        return client

    def test_skipped(self):
        path = self.ticket_with_early_data()
        server, port = self.petrel_server("--trace")
        self.offer(port, path)
        server.wait_for(r"skipped a record of early data", stream="err")

    def test_more_than_the_budget_fails_clearly(self):
        # 200 KB of early data: more than the buffered plaintext limit
        # (64 KiB) plus two records that the server skips.
        path = self.ticket_with_early_data("-max_early_data", "1000000")
        big = os.path.join(self.tmpdir, "big-early.txt")
        with open(big, "wb") as f:
            f.write(b"x" * 200000)
        server, port = self.petrel_server()
        client = self.openssl_client(port, "-sess_in", path, "-early_data", big,
                                     name="openssl s_client with too much early data")
        client.close_stdin()
        # s_client may finish its side of the handshake before the alert
        # arrives, so its exit status says nothing; the server's reason does.
        client.wait()
        server.wait_for(r"early data exceeds what this server skips", stream="err")
        self.expect_not(client, r"x{100}")

    def test_skipped_after_hello_retry_request(self):
        path = self.ticket_with_early_data()
        # s_client's key share is x25519; the server wants P-256: HRR.
        server, port = self.petrel_server("--groups", "P-256", "--trace")
        self.offer(port, path, "-groups", "x25519:P-256")
        server.wait_for(r"HelloRetryRequest", stream="err")
        server.wait_for(r"skipped a record of early data", stream="err")


class PetrelClientResumes(PeerTestCase):
    """`petrel client --reconnect` offers the first connection's session."""

    def test_openssl_server(self):
        server, port = self.openssl_server()
        client, rc = self.run_petrel_client(port, "--reconnect")
        self.assertEqual(rc, 0)
        self.expect(client, r"session: new\n(.*\n)*reconnecting with the session\n"
                            r"(.*\n)*session: resumed", stream="err")
        self.expect(client, r"verification: ok \(peer sent 2 certificates", stream="err")
        self.expect(client, r"session: resumed\n(.*\n)*verification: ok in the session's first "
                            r"connection \(the server sent 2 certificates then", stream="err")
        server.wait_for(r"Reused session-id")

    def test_openssl_server_hello_retry_request(self):
        server, port = self.openssl_server("-groups", "P-256")
        client, rc = self.run_petrel_client(port, "--reconnect", "--groups", "x25519:P-256",
                                            "--trace")
        self.assertEqual(rc, 0)
        self.expect(client, r"reconnecting with the session\n[\s\S]*\(HelloRetryRequest\)\n"
                            r"trace: offered a session[\s\S]*session: resumed", stream="err")

    def test_python_server(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki("server-p256-chain.pem"), pki("server-p256.key"))
        results = []
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(2)
        lsock.settimeout(DEADLINE)
        port = lsock.getsockname()[1]

        def serve():
            try:
                for _ in range(2):
                    raw, _ = lsock.accept()
                    raw.settimeout(DEADLINE)
                    with ctx.wrap_socket(raw, server_side=True) as conn:
                        results.append(conn.session_reused)
                        while conn.recv(4096):
                            pass
                        conn.unwrap()
            except (OSError, ssl.SSLError) as exc:
                results.append(exc)
            finally:
                lsock.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client, rc = self.run_petrel_client(port, "--reconnect")
        thread.join(DEADLINE)
        self.assertEqual(rc, 0)
        self.assertEqual(results, [False, True])
        self.expect(client, r"reconnecting with the session\n(.*\n)*session: resumed",
                    stream="err")


if __name__ == "__main__":
    unittest.main()
