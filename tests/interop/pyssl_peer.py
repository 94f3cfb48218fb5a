"""A TLS peer built on Python's ssl module, run as a separate process by the
interop tests (with /usr/bin/python3, so the system OpenSSL is the peer).

  pyssl_peer.py server [options]        listens on 127.0.0.1, one connection
  pyssl_peer.py client PORT [options]   connects to 127.0.0.1:PORT

It prints what happened, one fact per line, so a test can wait for lines:
  listening on 127.0.0.1:PORT           (server, once bound)
  handshake version=... cipher=... alpn=... peer=...
  reply <command> -> <answer>           (client --command)
  echo ok N                             (client --echo N)
  read N bytes                          (client --read)
  pha requested / pha peer=<subject>    (server --pha-request)
  error: <exception>                    (then exit status 3)
  closed                                (after a clean close)
"""

import argparse
import os
import socket
import ssl
import sys

PKI = os.environ.get("PETREL_TEST_DATA", "")
TIMEOUT = 20


def say(line):
    print(line, flush=True)


def pki(name):
    return os.path.join(PKI, name)


def version(name):
    return {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[name]


def make_context(args, server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if args.min_version:
        ctx.minimum_version = version(args.min_version)
    if args.max_version:
        ctx.maximum_version = version(args.max_version)
    if args.cert:
        ctx.load_cert_chain(pki(f"{args.cert}-chain.pem"), pki(f"{args.cert}.key"))
    if args.cafile:
        ctx.load_verify_locations(cafile=pki(args.cafile))
    if not server and args.no_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if server and args.verify_mode:
        ctx.verify_mode = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL,
                           "required": ssl.CERT_REQUIRED}[args.verify_mode]
    if args.pha:
        ctx.post_handshake_auth = True
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    return ctx


def subject_of(cert):
    if not cert:
        return "NONE"
    parts = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            parts.append(f"{key}={value}")
    return ",".join(parts)


def describe(conn):
    cipher = conn.cipher()
    peer = subject_of(conn.getpeercert())
    say(f"handshake version={conn.version()} cipher={cipher[0] if cipher else None} "
        f"alpn={conn.selected_alpn_protocol()} peer={peer}")


def read_line(conn, buf):
    """Reads one line (bytes, without the newline) from conn, keeping any
    extra bytes in buf. Returns None at end of stream."""
    while b"\n" not in buf:
        data = conn.recv(4096)
        if not data:
            return None
        buf += data
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line


def echo_loop(conn, buf):
    total = len(buf)
    if buf:
        conn.sendall(bytes(buf))
        buf.clear()
    while True:
        data = conn.recv(65536)
        if not data:
            break
        total += len(data)
        conn.sendall(data)
    say(f"received {total} bytes")


def serve(args):
    ctx = make_context(args, server=True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as lsock:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(TIMEOUT)
        say(f"listening on 127.0.0.1:{lsock.getsockname()[1]}")
        raw, _ = lsock.accept()
    raw.settimeout(TIMEOUT)
    with ctx.wrap_socket(raw, server_side=True) as conn:
        describe(conn)
        buf = bytearray()
        if args.pha_request:
            first = read_line(conn, buf)
            say(f"pha first line {first!r}")
            conn.verify_client_post_handshake()
            conn.sendall(b"REQUESTED\n")
            say("pha requested")
            second = read_line(conn, buf)
            say(f"pha second line {second!r}")
            peer = subject_of(conn.getpeercert())
            say(f"pha peer={peer}")
            conn.sendall(f"CERT {peer}\n".encode())
        echo_loop(conn, buf)
        try:
            conn.unwrap()
        except (ssl.SSLError, OSError) as exc:
            say(f"unwrap: {exc}")
    say("closed")


def connect(args):
    ctx = make_context(args, server=False)
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=TIMEOUT)
    server_hostname = None if args.no_verify and not args.servername else args.servername
    with ctx.wrap_socket(raw, server_hostname=server_hostname) as conn:
        describe(conn)
        buf = bytearray()
        for command in args.command:
            conn.sendall(command.encode() + b"\n")
            answer = read_line(conn, buf)
            if answer is None:
                say(f"reply {command} -> <end of stream>")
                break
            say(f"reply {command} -> {answer.decode(errors='replace')}")
        if args.echo:
            echo_check(conn, args.echo)
        if args.read:
            data = conn.recv(4096)
            say(f"read {len(data)} bytes")
        conn.unwrap()
    say("closed")


def echo_check(conn, total):
    """Sends total bytes in chunks and checks each comes back unchanged."""
    pattern = bytes(range(256)) * 64
    sent = 0
    while sent < total:
        chunk = pattern[: min(len(pattern), total - sent)]
        conn.sendall(chunk)
        back = bytearray()
        while len(back) < len(chunk):
            data = conn.recv(len(chunk) - len(back))
            if not data:
                raise ConnectionError(f"end of stream after {sent + len(back)} echoed bytes")
            back += data
        if bytes(back) != chunk:
            raise ValueError(f"echoed bytes differ at offset {sent}")
        sent += len(chunk)
    say(f"echo ok {total}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("port", type=int, nargs="?")
    parser.add_argument("--cert", help="leaf NAME of the test PKI (NAME-chain.pem, NAME.key)")
    parser.add_argument("--cafile", help="file of the test PKI to trust")
    parser.add_argument("--servername", default="localhost")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--verify-mode", choices=["none", "optional", "required"])
    parser.add_argument("--pha", action="store_true", help="post_handshake_auth = True")
    parser.add_argument("--pha-request", action="store_true",
                        help="server: after the first line, verify_client_post_handshake()")
    parser.add_argument("--alpn")
    parser.add_argument("--min-version")
    parser.add_argument("--max-version")
    parser.add_argument("--command", action="append", default=[],
                        help="client: send a line and print the line answered")
    parser.add_argument("--echo", type=int, default=0,
                        help="client: send this many bytes and check the echo")
    parser.add_argument("--read", action="store_true",
                        help="client: after the other steps, wait for data or the end")
    args = parser.parse_args()
    try:
        if args.role == "server":
            serve(args)
        else:
            connect(args)
    except (ssl.SSLError, OSError, ValueError, ConnectionError) as exc:
        say(f"error: {exc}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
