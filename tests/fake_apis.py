"""Loopback fakes of the Intercom and Zendesk APIs, for the pull tests.

Each fake is a real HTTP server on 127.0.0.1 (``http.server`` in a thread) that
checks authentication and speaks the vendor's paging: Intercom's conversation
search (``updated_at`` filter, ``pagination.starting_after``, ``pages.next``) and
``GET /conversations/{id}``; Zendesk's cursor-based incremental ticket export
(``start_time`` / ``cursor``, ``after_cursor``, ``end_of_stream``, ``metric_sets``).

Faults are scripted: ``fake.script = ["429", "500", "sleep", "truncate", "401"]``;
each request takes the next action (``ok`` when the script is empty).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

RETRY_AFTER = "7"
SLEEP_SECONDS = 0.6


def epoch(text: str) -> int:
    """ISO-8601 -> epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _uncursor(text: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text.encode()))


class FakeApi:
    """Common server plumbing: start/stop, request log, fault script."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.script: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        with self._lock:
            action = self.script.pop(0) if self.script else "ok"
            self.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "headers": dict(handler.headers),
                    "body": body,
                    "action": action,
                }
            )
        try:
            if action == "sleep":
                time.sleep(SLEEP_SECONDS)
            if action in ("429", "500", "503"):
                extra = {"Retry-After": RETRY_AFTER} if action == "429" else {}
                return self._send(handler, int(action), {"error": "try later"}, extra)
            if action == "401" or not self.authorised(handler.headers):
                return self._send(handler, 401, {"error": "Couldn't authenticate you"})
            status, payload = self.answer(method, parts.path, parse_qs(parts.query), body, handler.headers)
            if action == "truncate":
                raw = json.dumps(payload).encode()
                return self._send_raw(handler, status, raw[: len(raw) // 2])
            self._send(handler, status, payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(handler, status, json.dumps(payload).encode(), headers)

    @staticmethod
    def _send_raw(
        handler: BaseHTTPRequestHandler, status: int, raw: bytes, headers: dict[str, str] | None = None
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def authorised(self, headers: Any) -> bool:
        raise NotImplementedError

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes, headers: Any) -> tuple[int, Any]:
        raise NotImplementedError


class FakeIntercom(FakeApi):
    """``POST /conversations/search`` and ``GET /conversations/{id}``."""

    def __init__(self, token: str, conversations: list[dict[str, Any]]) -> None:
        super().__init__(token)
        self.conversations = conversations

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes, headers: Any) -> tuple[int, Any]:
        if not headers.get("Intercom-Version"):
            return 400, {"type": "error.list", "errors": [{"code": "intercom_version_missing"}]}
        if method == "POST" and path == "/conversations/search":
            return 200, self._search(json.loads(body))
        if method == "GET" and path.startswith("/conversations/"):
            cid = path.rsplit("/", 1)[1]
            for conv in self.conversations:
                if conv["id"] == cid:
                    parts = [
                        {
                            "type": "conversation_part",
                            "id": f"{cid}-p{i}",
                            "part_type": "comment",
                            "body": f"<p>part {i} of {cid}</p>",
                            "author": {"type": kind},
                        }
                        for i, kind in enumerate(("user", "admin"))
                    ]
                    return 200, {
                        **conv,
                        "conversation_parts": {
                            "type": "conversation_part.list",
                            "conversation_parts": parts,
                            "total_count": 2,
                        },
                    }
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 404, {"errors": [{"code": "not_found"}]}

    def _search(self, req: dict[str, Any]) -> dict[str, Any]:
        conds = req["query"]["value"]
        lo = next(c["value"] for c in conds if c["operator"] == ">")
        hi = next(c["value"] for c in conds if c["operator"] == "<")
        hits = sorted(
            (c for c in self.conversations if lo < c["updated_at"] < hi), key=lambda c: (c["updated_at"], c["id"])
        )
        per_page = req["pagination"]["per_page"]
        after = req["pagination"].get("starting_after")
        offset = _uncursor(after)["o"] if after else 0
        page = hits[offset : offset + per_page]
        total_pages = max(1, -(-len(hits) // per_page))
        pages: dict[str, Any] = {
            "type": "pages",
            "page": offset // per_page + 1,
            "per_page": per_page,
            "total_pages": total_pages,
        }
        if offset + per_page < len(hits):
            pages["next"] = {"page": offset // per_page + 2, "starting_after": _cursor({"o": offset + per_page})}
        return {"type": "conversation.list", "pages": pages, "total_count": len(hits), "conversations": page}


class FakeZendesk(FakeApi):
    """``GET /api/v2/incremental/tickets/cursor.json`` (basic ``email/token:TOKEN`` auth)."""

    def __init__(self, token: str, tickets: list[dict[str, Any]], email: str = "agent@example.com") -> None:
        super().__init__(token)
        self.tickets = sorted(tickets, key=lambda t: (t["generated_timestamp"], t["id"]))
        self.email = email

    def authorised(self, headers: Any) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes, headers: Any) -> tuple[int, Any]:
        if method != "GET" or path != "/api/v2/incremental/tickets/cursor.json":
            return 404, {"error": "InvalidEndpoint"}
        per_page = int(query.get("per_page", ["1000"])[0])
        if "cursor" in query:
            state = _uncursor(query["cursor"][0])
        elif "start_time" in query:
            state = {"s": int(query["start_time"][0]), "o": 0}
        else:
            return 400, {"error": "InvalidPaginationParameter"}
        hits = [t for t in self.tickets if t["generated_timestamp"] >= state["s"]]
        page = hits[state["o"] : state["o"] + per_page]
        nxt = _cursor({"s": state["s"], "o": state["o"] + len(page)})
        out: dict[str, Any] = {
            "tickets": page,
            "after_cursor": nxt,
            "after_url": f"{self.url}{path}?cursor={nxt}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": state["o"] + per_page >= len(hits),
        }
        if query.get("include") == ["metric_sets"]:
            out["metric_sets"] = [
                {"ticket_id": t["id"], "agent_wait_time_in_minutes": {"calendar": 12, "business": 9}} for t in page
            ]
        return 200, out


def intercom_conversation(cid: str, updated: str, body: str = "<p>Where is my order #1234?</p>") -> dict[str, Any]:
    """A conversation in the shape the search endpoint returns (no parts)."""
    ts = epoch(updated)
    return {
        "type": "conversation",
        "id": cid,
        "created_at": ts - 3600,
        "updated_at": ts,
        "title": None,
        "state": "closed",
        "open": False,
        "read": True,
        "source": {
            "type": "conversation",
            "id": f"s{cid}",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": body,
            "author": {"type": "user", "id": "u1"},
        },
        "statistics": {"type": "conversation_statistics", "time_to_admin_reply": 120, "handling_time": 300},
        "ai_agent_participated": False,
        "conversation_rating": {"rating": 4},
    }


def zendesk_ticket(
    tid: int, updated: str, description: str = "My parcel never arrived, order #5566."
) -> dict[str, Any]:
    """A ticket in the shape the incremental export returns."""
    ts = epoch(updated)
    created = datetime.fromtimestamp(ts - 7200, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": tid,
        "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json",
        "created_at": created,
        "updated_at": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generated_timestamp": ts,
        "subject": f"Ticket {tid}",
        "description": description,
        "status": "solved",
        "via": {"channel": "email"},
        "tags": [],
        "custom_fields": [{"id": 360012345678, "value": 420}],
        "satisfaction_rating": {"score": "good"},
    }


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a proxy configured in CI from intercepting requests to the loopback fakes."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
