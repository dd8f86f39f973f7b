#!/usr/bin/env python3
"""The payments sample's two HTTP/1.1 programs (Python 3 standard library only).

  payments_app.py payments-api --version v1 --listen 127.0.0.1:18081
      GET/POST /api/...   200 {"service": "payments-api", "version": "v1", "method", "path", "headers"}
      Control knobs, for demos and the end-to-end test (on the app's own port, not through a proxy):
      POST /admin/fail?count=N&status=503   the next N /api requests answer STATUS
      POST /admin/sleep?count=N&ms=M        the next N /api requests wait M ms first
      POST /admin/reset                     forget both
      GET  /admin/stats                     {"requests", "failed", "slept", "version"}

  payments_app.py orders --listen 127.0.0.1:18091 --payments 127.0.0.1:15101
      GET /checkout   calls GET /api/charge on payments-api through its sidecar's outbound bind
                      (--payments) with Host payments-api.payments.svc.cluster.local:8080, passing
                      x-test-cohort and the trace headers on, and answers
                      {"service": "orders", "payments": {"status", "version", "body"}} with the
                      status payments-api's call ended with.
"""
import argparse
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

PAYMENTS_HOST = "payments-api.payments.svc.cluster.local:8080"
# Headers a caller's sidecar uses to route and trace; an app must pass them on (Istio's rule).
PROPAGATED = ("x-test-cohort", "x-request-id", "traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid",
              "x-b3-parentspanid", "x-b3-sampled", "authorization")


def host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: want HOST:PORT")
    return host, int(port)


class Knobs:
    """What the next /api requests should do; shared by the server's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fail_left = 0
        self.fail_status = 503
        self.sleep_left = 0
        self.sleep_ms = 0
        self.requests = 0
        self.failed = 0
        self.slept = 0

    def next_request(self):
        """(status to fail with or None, seconds to sleep) for one /api request."""
        with self.lock:
            self.requests += 1
            status, delay = None, 0.0
            if self.sleep_left > 0:
                self.sleep_left -= 1
                self.slept += 1
                delay = self.sleep_ms / 1000
            if self.fail_left > 0:
                self.fail_left -= 1
                self.failed += 1
                status = self.fail_status
            return status, delay


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the proxies in front expect
    server_version = "payments-sample"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(min(length, 1 << 20)) if length > 0 else b""

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


class PaymentsApi(Handler):
    def route(self, method):
        self.read_body()
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        knobs = self.server.knobs
        version = self.server.version
        if url.path.startswith("/admin/"):
            return self.admin(method, url.path, query, knobs, version)
        if not url.path.startswith("/api/"):
            return self.reply(404, {"error": "not found", "path": url.path})
        status, delay = knobs.next_request()
        if delay:
            time.sleep(delay)
        body = {"service": "payments-api", "version": version, "method": method, "path": url.path,
                "headers": {k.lower(): v for k, v in self.headers.items()}}
        if status is not None:
            body["error"] = "failure injected by /admin/fail"
        self.reply(status or 200, body)

    def admin(self, method, path, query, knobs, version):
        with knobs.lock:
            try:
                if method == "POST" and path == "/admin/fail":
                    knobs.fail_left = int(query.get("count", "1"))
                    knobs.fail_status = int(query.get("status", "503"))
                elif method == "POST" and path == "/admin/sleep":
                    knobs.sleep_left = int(query.get("count", "1"))
                    knobs.sleep_ms = int(query.get("ms", "1000"))
                elif method == "POST" and path == "/admin/reset":
                    knobs.fail_left = knobs.sleep_left = 0
                elif not (method == "GET" and path == "/admin/stats"):
                    return self.reply(404, {"error": "unknown admin call", "path": path})
            except ValueError as e:
                return self.reply(400, {"error": str(e)})
            stats = {"version": version, "requests": knobs.requests, "failed": knobs.failed, "slept": knobs.slept,
                     "fail_left": knobs.fail_left, "sleep_left": knobs.sleep_left}
        self.reply(200, stats)


class Orders(Handler):
    def route(self, method):
        self.read_body()
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/checkout":
            return self.reply(404, {"error": "not found", "path": url.path})
        host, port = self.server.payments
        headers = {"host": PAYMENTS_HOST}
        for name in PROPAGATED:
            if self.headers.get(name) is not None:
                headers[name] = self.headers[name]
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", "/api/charge", headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except OSError as e:
            return self.reply(502, {"service": "orders", "error": f"payments-api: {e}"})
        finally:
            conn.close()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        payments = {"status": resp.status, "version": answer.get("version") if isinstance(answer, dict) else None,
                    "body": answer if answer is not None else raw.decode("utf-8", "replace")}
        self.reply(resp.status, {"service": "orders", "payments": payments})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="app", required=True)
    api = sub.add_parser("payments-api")
    api.add_argument("--version", required=True)
    api.add_argument("--listen", type=host_port, required=True)
    orders = sub.add_parser("orders")
    orders.add_argument("--listen", type=host_port, required=True)
    orders.add_argument("--payments", type=host_port, required=True,
                        help="HOST:PORT of the sidecar's outbound bind for port 8080")
    args = parser.parse_args()
    handler = PaymentsApi if args.app == "payments-api" else Orders
    server = http.server.ThreadingHTTPServer(args.listen, handler)
    server.daemon_threads = True
    server.knobs = Knobs()
    server.version = getattr(args, "version", None)
    server.payments = getattr(args, "payments", None)
    print(f"{args.app} listening on {args.listen[0]}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
