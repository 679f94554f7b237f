"""The review page's HTTP server: the standard library's, on 127.0.0.1 only.

It treats every request as hostile. ``Host`` must name this server (127.0.0.1 or localhost at its port: a
DNS-rebinding page is refused); a request carrying ``Origin`` or ``Sec-Fetch-Site`` from another site is
refused, and a POST must carry this server's own ``Origin`` and a JSON body (so no cross-site form can
post). Only the page's own files, the run's rows and its training samples' thumbnails are served, by
fixed routes (no path reaches the file system; thumbnails come inline with their rows); every posted index
and label is checked."""
import base64
import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import numpy as np

MAX_BODY = 4096
PAGE_SIZE_MAX = 500
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"), "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/style.css": ("style.css", "text/css; charset=utf-8")}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cross-Origin-Resource-Policy": "same-origin",
                    "Content-Security-Policy": "default-src 'self'; img-src data:; frame-ancestors 'none'; "
                                               "base-uri 'none'; form-action 'none'"}


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, run, store, port: int = 0):
        super().__init__(("127.0.0.1", port), ReviewHandler)
        self.run, self.store = run, store
        port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.assets = {route: resources.files("noisyrobust.review").joinpath("page", name).read_bytes()
                       for route, (name, _) in ASSETS.items()}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet: the terminal shows the URL only
        pass

    # -- who may ask --------------------------------------------------------------------------------------
    def _refusal(self, post: bool):
        """(status, reason) when the request does not come from this server's own page, else None."""
        if self.headers.get("Host") not in self.server.hosts:
            return HTTPStatus.MISDIRECTED_REQUEST, "Host is not this server (127.0.0.1 or localhost at its port)"
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            return HTTPStatus.FORBIDDEN, "cross-origin request refused"
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return HTTPStatus.FORBIDDEN, "cross-site request refused"
        if post and origin is None:
            return HTTPStatus.FORBIDDEN, "a POST must carry this page's Origin"
        return None

    def _send(self, status, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, payload) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status, message: str) -> None:
        self._json(status, {"error": message})

    # -- routes -------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        refusal = self._refusal(post=False)
        if refusal:
            return self._error(*refusal)
        url = urlsplit(self.path)
        if url.path in ASSETS:
            return self._send(HTTPStatus.OK, self.server.assets[url.path], ASSETS[url.path][1])
        if url.path == "/api/info":
            return self._json(HTTPStatus.OK, self._info())
        if url.path == "/api/rows":
            try:
                return self._json(HTTPStatus.OK, self._rows(parse_qs(url.query)))
            except ValueError as e:
                return self._error(HTTPStatus.BAD_REQUEST, str(e))
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        refusal = self._refusal(post=True)
        if refusal:
            return self._error(*refusal)
        if urlsplit(self.path).path != "/api/decide":
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        if self.headers.get_content_type() != "application/json":
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if not 0 < length <= MAX_BODY:
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body must be 1..{MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object {index, decision, label}")
            now = self.server.store.decide(body.get("index"), body.get("decision"), body.get("label"))
        except (ValueError, UnicodeDecodeError) as e:
            return self._error(HTTPStatus.BAD_REQUEST, str(e).splitlines()[0][:200])
        decision, label = now if now else (None, None)
        self._json(HTTPStatus.OK, {"index": body["index"], "decision": decision, "label": label,
                                   "counts": self.server.store.counts()})

    def do_OPTIONS(self) -> None:  # noqa: N802 - no CORS preflight is ever granted
        self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")

    # -- what the page reads ------------------------------------------------------------------------------
    def _info(self) -> dict:
        run = self.server.run
        return {"run": run.run_dir.name, "score": run.score_name, "rows": len(run.index), "classes": run.class_names,
                "counts": self.server.store.counts(), "problem": run.data_problem,
                "pictures": run.pictures}

    def _rows(self, query: dict) -> dict:
        """One page of the rows that pass the filters, in the report's order."""
        run, decisions = self.server.run, self.server.store.decisions

        def number(name, default, kind=int):
            value = query.get(name, [""])[0]
            try:
                return default if value == "" else kind(value)
            except ValueError:
                raise ValueError(f"{name}={value!r} is not a number") from None

        offset, limit = number("offset", 0), number("limit", 50)
        if offset < 0 or not 1 <= limit <= PAGE_SIZE_MAX:
            raise ValueError(f"offset must be >= 0 and limit in 1..{PAGE_SIZE_MAX}")
        keep = np.ones(len(run.index), dtype=bool)
        for name, column in (("given", run.given), ("suggested", run.suggested)):
            c = number(name, None)
            if c is not None:
                keep &= column == c
        low, high = number("min", None, float), number("max", None, float)
        if low is not None:
            keep &= run.score >= low
        if high is not None:
            keep &= run.score <= high
        show = query.get("show", ["all"])[0]
        if show not in ("all", "undecided", "decided"):
            raise ValueError(f"show={show!r} is unknown; choose from: all, undecided, decided")
        if show != "all":
            decided = np.isin(run.index, np.fromiter(list(decisions), dtype=np.int64))
            keep &= decided if show == "decided" else ~decided
        rows = np.flatnonzero(keep)
        page = rows[offset:offset + limit]
        return {"total": len(rows), "offset": offset, "rows": [self._row(k, decisions) for k in page.tolist()]}

    def _row(self, k: int, decisions: dict) -> dict:
        run = self.server.run
        index = int(run.index[k])
        decision, label = decisions.get(index, (None, None))
        score = float(run.score[k])
        return {"index": index, "rank": int(run.rank[k]), "given": int(run.given[k]),
                "suggested": int(run.suggested[k]), "score": None if np.isnan(score) else score,
                "decision": decision, "label": label, **self._picture(index)}

    def _picture(self, index: int) -> dict:
        """The sample's thumbnail inline (one request brings a page's rows and pictures), or its values."""
        run = self.server.run
        if not run.pictures:
            return {"text": run.values(index)}
        png = run.thumbnail(index)
        return {"thumbnail": "data:image/png;base64," + base64.b64encode(png).decode()} if png else {}
