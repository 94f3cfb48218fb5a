"""curl (libcurl with OpenSSL) against `petrel server --http`: verification
with --cacert, every TLS 1.3 suite, ALPN, client certificates in the
handshake, and post-handshake authentication on a path prefix (curl
enables post_handshake_auth when it has a certificate)."""

import re
import subprocess
import unittest

from peers import DEADLINE, SUITES, PeerTestCase, clean_env, pki

CLIENT_CERT = ("--cert", pki("client-p256-chain.pem"), "--key", pki("client-p256.key"))


class CurlToPetrel(PeerTestCase):
    REQUIRED_PROGRAMS = ("curl",)

    def curl(self, port, *args, path="/"):
        """Runs curl against https://localhost:PORT<path>, resolved to
        127.0.0.1 without DNS or proxies. Returns (exit status, HTTP status,
        body, verbose log)."""
        argv = ["curl", "-sS", "-v", "--noproxy", "*", "--max-time", str(int(DEADLINE)),
                "--cacert", pki("ca.pem"), "--resolve", f"localhost:{port}:127.0.0.1",
                "-w", "\nCURL-STATUS %{http_code}\n", *args, f"https://localhost:{port}{path}"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                                  env=clean_env(), timeout=DEADLINE + 5)
        except subprocess.TimeoutExpired:
            self.fail(f"curl did not finish: {' '.join(argv)}")
        found = re.search(r"CURL-STATUS (\d+)", proc.stdout)
        status = int(found.group(1)) if found else 0
        body = proc.stdout[:found.start()] if found else proc.stdout
        self.last = f"$ {' '.join(argv)}\n[exit {proc.returncode}]\n{proc.stdout}\n{proc.stderr}"
        self.addCleanup(self._print_curl_on_failure, self.last)
        return proc.returncode, status, body, proc.stderr

    def _print_curl_on_failure(self, text):
        if self._problem_count() not in (None, self._problems_before):
            print(f"\n----- curl\n{text}\n-----")

    def http_server(self, *args):
        _, port = self.petrel_server("--http", *args)
        return port

    def assertLog(self, text, pattern, present=True):  # noqa: N802
        """pattern is (or is not) in curl's output; curl's full output is
        printed when the test fails."""
        if bool(re.search(pattern, text)) != present:
            self.fail(f"curl output {'lacks' if present else 'has'} {pattern!r}")

    def assertOk(self, result):  # noqa: N802
        rc, status, _, _ = result
        self.assertEqual((rc, status), (0, 200), "curl should get 200 OK")

    def test_get(self):
        result = self.curl(self.http_server())
        self.assertOk(result)
        self.assertLog(result[3], r"SSL connection using TLSv1\.3 / TLS_\w+")
        self.assertLog(result[3], r"SSL certificate verify ok")
        self.assertTrue(result[2], "the page should not be empty")

    def test_several_requests(self):
        port = self.http_server()
        for i in range(3):
            self.assertOk(self.curl(port, path=f"/page{i}"))

    def test_suites(self):
        port = self.http_server()
        for suite in SUITES:
            with self.subTest(suite=suite):
                result = self.curl(port, "--tlsv1.3", "--tls13-ciphers", suite)
                self.assertOk(result)
                self.assertLog(result[3], rf"SSL connection using TLSv1\.3 / {suite}\b")

    def test_alpn(self):
        result = self.curl(self.http_server("--alpn", "http/1.1"), "--http1.1")
        self.assertOk(result)
        self.assertLog(result[3], r"ALPN.*accepted.*http/1\.1")

    def test_wrong_trust_anchor(self):
        rc, _, _, log = self.curl(self.http_server(), "--cacert", pki("other-ca.pem"))
        self.assertNotEqual(rc, 0)
        self.assertLog(log, r"(?i)unable to get local issuer certificate")

    def test_client_certificate_required(self):
        port = self.http_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        self.assertOk(self.curl(port, *CLIENT_CERT))

    def test_client_certificate_required_but_missing(self):
        port = self.http_server("--verify-mode", "required", "--cafile", pki("ca.pem"))
        rc, status, _, log = self.curl(port)
        self.assertNotEqual(rc, 0)
        self.assertNotEqual(status, 200)
        self.assertLog(log, r"(?i)certificate required")

    def pha_server(self):
        return self.http_server("--post-handshake-auth", "--verify-mode", "required",
                                "--cafile", pki("ca.pem"), "--pha-path", "/private")

    def test_pha_path_with_certificate(self):
        port = self.pha_server()
        result = self.curl(port, *CLIENT_CERT, path="/private/page")
        self.assertOk(result)
        # curl logs the request arriving after the handshake.
        self.assertLog(result[3], r"TLSv1\.3 \(IN\), TLS handshake, Request CERT")

    def test_pha_path_public_page_needs_no_certificate(self):
        port = self.pha_server()
        result = self.curl(port, path="/public")
        self.assertOk(result)
        self.assertLog(result[3], r"Request CERT", present=False)

    def test_pha_path_without_certificate(self):
        port = self.pha_server()
        _, status, _, log = self.curl(port, path="/private/page")
        self.assertNotEqual(status, 200, "a required certificate was not sent")
        self.assertLog(log, r"Request CERT")


if __name__ == "__main__":
    unittest.main()
