"""`petrel demo`, which the README's first command runs: it must finish
every step (handshake, data, post-handshake authentication, close) and
exit 0."""

import subprocess
import unittest

from peers import DEADLINE, PETREL, PeerTestCase


class Demo(PeerTestCase):
    def test_demo_succeeds(self):
        proc = subprocess.run([PETREL, "demo"], capture_output=True, text=True,
                              errors="replace", timeout=DEADLINE * 3)
        out = proc.stdout + proc.stderr
        if proc.returncode != 0:
            self.fail(f"petrel demo exited {proc.returncode}:\n{out}")
        for pattern in (r"Negotiated TLSv1\.3", r"server: sent CertificateRequest",
                        r"client: sent CertificateVerify", r"Both sides closed cleanly",
                        r"every step succeeded"):
            with self.subTest(pattern=pattern):
                self.assertRegex(out, pattern)

    def test_demo_over_tls12(self):
        proc = subprocess.run([PETREL, "demo", "--max-version", "1.2"], capture_output=True,
                              text=True, errors="replace", timeout=DEADLINE * 3)
        out = proc.stdout + proc.stderr
        if proc.returncode != 0:
            self.fail(f"petrel demo --max-version 1.2 exited {proc.returncode}:\n{out}")
        for pattern in (r"Negotiated TLSv1\.2 with TLS_ECDHE_ECDSA_WITH_",
                        r"extended master secret",
                        r"server: sent CertificateRequest",
                        r"client proved its key",
                        r"Asking again after the handshake is refused: post-handshake "
                        r"authentication needs TLS 1\.3",
                        r"Both sides closed cleanly", r"every step succeeded"):
            with self.subTest(pattern=pattern):
                self.assertRegex(out, pattern)


if __name__ == "__main__":
    unittest.main()
