#!/usr/bin/env python3
"""A test Kubernetes API server, faithful enough for the real kubectl and our C++ client.

Usage: kube_apiserver.py --listen 127.0.0.1:0 [--tls-cert C --tls-key K] [--client-ca CA]
           [--token T]... [--user-for-token T=NAME]... [--ready-file PATH]
           [--forbid VERB:RESOURCE[.GROUP]]... [--auto-ready] [--crd-establish-delay-ms N]
           [--bookmark-interval-ms N] [--verbose]
Prints the base URL as its first stdout line (and writes it to --ready-file) once listening.
See README.md beside this file.
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import threading

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import control  # noqa: E402
import http_handler  # noqa: E402
import rest  # noqa: E402
import store  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(prog="kube_apiserver.py", description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT, port 0 picks a free one")
    p.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--client-ca", help="accept client certificates signed by this CA (user = CN)")
    p.add_argument("--token", action="append", default=[], help="accepted bearer token")
    p.add_argument("--user-for-token", action="append", default=[], metavar="TOKEN=NAME",
                   help="user name a token authenticates as (default kubernetes-admin)")
    p.add_argument("--ready-file", help="write the base URL here, atomically, once listening")
    p.add_argument("--forbid", action="append", default=[], metavar="VERB:RESOURCE[.GROUP]",
                   help="deny this verb on this resource with the real 403 Status")
    p.add_argument("--auto-ready", action="store_true",
                   help="mark Deployments ready as soon as they are created or updated")
    p.add_argument("--crd-establish-delay-ms", type=int, default=0,
                   help="delay before a new CRD becomes Established (default 0: at once)")
    p.add_argument("--finalize-delay-ms", type=int, default=300,
                   help="delay before a deleted namespace's (CRD's) contents are removed and "
                        "it disappears; 0 does it within the DELETE (default 300)")
    p.add_argument("--bookmark-interval-ms", type=int, default=3000,
                   help="period of BOOKMARK events on watches that allow them")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert")
    if min(args.crd_establish_delay_ms, args.finalize_delay_ms) < 0 or \
            args.bookmark_interval_ms <= 0:
        p.error("delays must be >= 0 and --bookmark-interval-ms > 0")
    return p, args


def split_host_port(p, listen):
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        p.error(f"--listen {listen!r}: expected HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def main(argv):
    p, args = parse_args(argv)
    host, port = split_host_port(p, args.listen)
    tokens = {t: "kubernetes-admin" for t in args.token}
    for spec in args.user_for_token:
        token, sep, user = spec.partition("=")
        if not sep or not token or not user:
            p.error(f"--user-for-token {spec!r}: expected TOKEN=NAME")
        tokens[token] = user
    try:
        authorizer = control.Authorizer(args.forbid)
    except ValueError as err:
        p.error(str(err))

    ssl_context = None
    if args.tls_cert:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
            if args.client_ca:
                ssl_context.load_verify_locations(args.client_ca)
                ssl_context.verify_mode = ssl.CERT_OPTIONAL
        except (OSError, ssl.SSLError) as err:
            p.error(f"cannot load TLS files: {err}")
        ssl_context.set_alpn_protocols(["http/1.1"])

    s = store.Store(auto_ready=args.auto_ready,
                    crd_establish_delay_ms=args.crd_establish_delay_ms,
                    finalize_delay_ms=args.finalize_delay_ms)
    cfg = http_handler.Config(store=s, api=rest.Api(s, authorizer), authorizer=authorizer,
                              faults=control.Faults(), log=control.RequestLog(), tokens=tokens,
                              client_ca=bool(args.client_ca),
                              bookmark_interval=args.bookmark_interval_ms / 1000.0,
                              verbose=args.verbose)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        server = http_handler.Server((host, port), family, cfg, ssl_context)
    except OSError as err:
        print(f"kube_apiserver: cannot listen on {args.listen}: {err}", file=sys.stderr)
        return 1
    bound_port = server.server_address[1]
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    url = f"{'https' if ssl_context else 'http'}://{shown_host}:{bound_port}"
    print(url, flush=True)
    if args.ready_file:
        tmp = f"{args.ready_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(url)  # no newline: readers may take the file whole
        os.replace(tmp, args.ready_file)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
