"""HTTP/1.1 plumbing: one thread per connection, keep-alive, optional TLS with client
certificates, bearer tokens, body limits, fault injection, chunked watch streams, and the
/__test/ control endpoints. API semantics live in rest.py and store.py."""

import json
import queue
import select
import socket
import ssl
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import api_errors as E
import rest
import tables
from control import Authorizer
from label_selectors import FieldSelector, LabelSelector

MAX_BODY = 3 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


@dataclass
class Config:
    store: object
    api: object
    authorizer: object
    faults: object
    log: object
    tokens: dict = field(default_factory=dict)   # token -> user name
    client_ca: bool = False
    bookmark_interval: float = 3.0
    verbose: bool = False

    @property
    def auth_required(self):
        return bool(self.tokens) or self.client_ca


@dataclass
class Request:
    method: str
    path: str
    query: dict
    raw_query: str
    content_type: str
    accept: str
    user_agent: str
    body: bytes = b""
    user: str = ""


class _Dropped(Exception):
    """The connection is closed without an answer (stall fault, client gone)."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, family, cfg, ssl_context):
        self.address_family = family
        self.cfg = cfg
        self.ssl_context = ssl_context
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, so a slow client
        # cannot hold up accept().
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            request.settimeout(None)
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            request.close()

    def handle_error(self, request, client_address):
        if self.cfg.verbose:
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-test"
    sys_version = ""
    default_request_version = "HTTP/1.1"  # so even a garbage request line gets a status line
    timeout = 600  # idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def __getattr__(self, name):
        # Every method reaches _handle, so unknown ones get a 405 Status rather than a 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            sys.stderr.write("kube_apiserver: %s - %s\n" % (self.address_string(), fmt % args))

    def send_error(self, code, message=None, explain=None):
        """Malformed request lines and headers: a 400-family Status, then close."""
        self.close_connection = True
        reason = {400: "BadRequest", 414: "RequestURITooLong",
                  431: "RequestHeaderFieldsTooLarge"}.get(code, "BadRequest")
        try:
            self._send_json(code, E.ApiError(code, reason, message or "bad request").status())
        except OSError:
            pass

    # --- responses ----------------------------------------------------------------------
    def _send_json(self, code, body, headers=None):
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, body):
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _client_gone(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (ValueError, OSError):
            return True
        if not readable:
            return False
        if isinstance(self.connection, ssl.SSLSocket):
            return True  # a client waiting for our answer sends nothing; EOF or garbage
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # --- request ------------------------------------------------------------------------
    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    raise E.bad_request("malformed chunked request body") from None
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return data
                if len(data) + size > MAX_BODY:
                    self.close_connection = True
                    raise E.too_large(MAX_BODY)
                data += self.rfile.read(size)
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise E.bad_request("invalid Content-Length") from None
        if n > MAX_BODY:
            # Read and drop a moderately oversized body (bounded memory) so that clients which
            # send it all before reading still see the 413; close on anything larger.
            self.close_connection = True
            left = n if n <= DRAIN_LIMIT else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            raise E.too_large(MAX_BODY)
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            raise E.bad_request("request body shorter than Content-Length")
        return data

    def _authenticate(self):
        cfg = self.server.cfg
        if not cfg.auth_required:
            return "system:anonymous"
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:  # only present when verified against --client-ca
                for rdn in cert.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            return value
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in cfg.tokens:
            return cfg.tokens[auth[7:].strip()]
        raise E.unauthorized()

    def _handle(self):
        cfg = self.server.cfg
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        req = Request(self.command, url.path, query, url.query,
                      self.headers.get("Content-Type", ""), self.headers.get("Accept", ""),
                      self.headers.get("User-Agent", ""))
        entry = {"method": req.method, "path": req.path, "query": req.raw_query,
                 "contentType": req.content_type, "user": "", "userAgent": req.user_agent}
        control = req.path.startswith("/__test/")
        code = 0
        try:
            req.body = self._read_body()
            if control:
                code = self._control(req)
            else:
                code = self._api(req, entry)
        except E.ApiError as err:
            code = err.code
            self._send_json(err.code, err.status(), err.headers)
        except _Dropped:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as err:  # a bug here must not take the server down
            traceback.print_exc()
            code = 500
            try:
                self._send_json(500, E.internal(f"{type(err).__name__}: {err}").status())
            except OSError:
                self.close_connection = True
        finally:
            if not control:
                entry["code"] = code
                cfg.log.add(entry)

    def _api(self, req, entry):
        cfg = self.server.cfg
        if req.path in HEALTH_PATHS or req.path.startswith(tuple(p + "/" for p in HEALTH_PATHS)):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return 200
        if req.path != "/version":  # health and version need no credentials
            req.user = self._authenticate()
        entry["user"] = req.user
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        doc = None
        if req.path.startswith("/openapi/v3"):
            doc = rest.openapi_v3(cfg.store, req.path.rstrip("/"))
            if doc is None:
                raise E.route_not_found()
        elif req.path.startswith("/openapi/"):
            raise E.route_not_found()  # no v2 document: see README
        else:
            doc = rest.discovery(cfg.store, req.path.rstrip("/") or "/", host)
        if doc is not None:
            if req.method != "GET":
                raise E.method_not_allowed()
            self._send_json(200, doc)
            return 200
        rest.check_accept(req.accept)
        r = rest.route(cfg.store, req.method, req.path, req.query)
        name = rest.authz_name(r, req.query)
        entry.update(verb=r.verb, resource=r.kind.plural, group=r.kind.group,
                     namespace=r.namespace, name=name, subresource=r.subresource)
        if not cfg.authorizer.allowed(r.verb, r.kind.group, r.kind.plural, r.subresource):
            raise Authorizer.forbidden(req.user, r.verb, r.kind.group, r.kind.plural,
                                       r.subresource, r.namespace, name)
        fault = cfg.faults.take(r.verb, r.kind.plural)
        if fault is not None:
            self._inject(fault, r, name)
        if r.verb == "watch":
            return self._watch(r, req)
        code, body = cfg.api.serve(r, req.query, req)
        self._send_json(code, body)
        return code

    def _inject(self, fault, r, name):
        if fault["latency_ms"] > 0:
            time.sleep(fault["latency_ms"] / 1000.0)
        if fault["stall"]:
            faults = self.server.cfg.faults
            while not faults.cleared.wait(0.1):
                if self._client_gone():
                    break
            raise _Dropped()
        status = fault["status"]
        if status is None:
            return
        err = E.from_code(status, fault["message"], r.kind.group, r.kind.plural, name)
        if r.verb == "watch" and status == 410:
            self._start_stream()
            self._chunk({"type": "ERROR", "object": err.status()})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            raise _Dropped()
        raise err

    # --- watch --------------------------------------------------------------------------
    def _start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()

    def _watch(self, r, req):
        cfg, q = self.server.cfg, req.query
        timeout = rest.query_int(q, "timeoutSeconds") or 1800
        allow_bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        w = cfg.store.watch(r.kind, r.namespace, LabelSelector.parse(q.get("labelSelector", "")),
                            FieldSelector.parse(q.get("fieldSelector", "")),
                            q.get("resourceVersion", ""), q.get("sendInitialEvents") == "true",
                            allow_bookmarks)
        as_table = rest.wants_table(req.accept)
        first = True
        try:
            self._start_stream()
            deadline = time.monotonic() + timeout
            next_bookmark = time.monotonic() + cfg.bookmark_interval
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                wake = min(deadline, next_bookmark if allow_bookmarks else deadline, now + 1.0)
                try:
                    ev = w.events.get(timeout=max(wake - now, 0.001))
                except queue.Empty:
                    if self._client_gone():
                        self.close_connection = True
                        return 200
                    if allow_bookmarks and time.monotonic() >= next_bookmark:
                        next_bookmark = time.monotonic() + cfg.bookmark_interval
                        bookmark = cfg.store.bookmark(w)
                        if bookmark is not None:
                            self._chunk({"type": "BOOKMARK", "object": bookmark})
                    continue
                if ev is None:
                    break
                etype, obj = ev
                if as_table and etype not in ("ERROR", "BOOKMARK"):
                    obj = tables.table(r.kind, [obj], obj["metadata"].get("resourceVersion", ""),
                                       headers=first,
                                       include_object=q.get("includeObject", "Metadata"))
                    first = False
                self._chunk({"type": etype, "object": obj})
                if etype == "ERROR":
                    break
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            cfg.store.stop_watch(w)
        return 200

    # --- /__test/ -----------------------------------------------------------------------
    def _control(self, req):
        cfg, method, path = self.server.cfg, req.method, req.path.rstrip("/")

        def body():
            if not req.body:
                return {}
            value = rest.decode(req.body, "application/json", False)
            if not isinstance(value, dict):
                raise E.bad_request("control request body must be a JSON object")
            return value

        if path == "/__test/faults" and method == "POST":
            result = (201, {"fault": cfg.faults.add(body())})
        elif path == "/__test/faults" and method == "DELETE":
            cfg.faults.clear()
            result = (200, {"faults": []})
        elif path == "/__test/faults" and method == "GET":
            result = (200, {"faults": cfg.faults.list()})
        elif path == "/__test/compact" and method == "POST":
            result = (200, {"compactedResourceVersion": str(cfg.store.compact())})
        elif path == "/__test/ready" and method == "POST":
            b = body()
            result = (200, cfg.store.mark_ready(b.get("namespace", "default"), b.get("name", ""),
                                                b.get("kind", "Deployment")))
        elif path == "/__test/requests" and method == "GET":
            result = (200, {"requests": cfg.log.list()})
        elif path == "/__test/requests" and method == "DELETE":
            cfg.log.clear()
            result = (200, {"requests": []})
        elif path in ("/__test/faults", "/__test/compact", "/__test/ready", "/__test/requests"):
            raise E.method_not_allowed()
        else:
            raise E.route_not_found()
        self._send_json(*result)
        return result[0]
