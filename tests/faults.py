"""A fault-injecting OpenAI-compatible server for tests (standard library only, on loopback).

It answers ``POST /v1/chat/completions``, streamed (server-sent events) or not, with a valid instance of the
requested schema (``instance_for``, as the benchmark's simulated server does), unless a :class:`Fault` matches
the request: by its number (1-based, counted over the server's life, revivals included) and/or by the asset
(the schema's title, e.g. ``LeadMagnetCopy`` or ``SocialPost_instagram``), at most ``times`` times. It logs
every request, so a test can count what a run asked for. Kinds of fault:

- ``die``: the connection is dropped and the server stops listening (connection refused) until :meth:`revive`,
  or for ``seconds`` when set; every open connection is closed too;
- ``slow``: the answer comes after ``seconds`` (a timeout or a deadline passes first);
- ``429``: Too Many Requests with ``Retry-After: <seconds>``; ``500``: an internal server error;
- ``truncated``: the asset's JSON cut in half (``finish_reason: length``); ``invalid``: prose, not JSON;
- ``garbage``: an HTTP 200 whose body is not JSON at all;
- ``reset``: the connection is reset (TCP RST) mid-answer: after two chunks of a stream, before any byte of a
  plain answer;
- ``control``: valid JSON whose strings hold control characters (a bell, an escape, a NUL) XML cannot hold.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from benchmarks.fake_openai_server import approx_tokens, instance_for, request_schema

FaultKind = Literal["die", "slow", "429", "500", "truncated", "invalid", "garbage", "reset", "control"]
CONTROL = "\x07\x0b\x1b[0m\x00"  # bell, vertical tab, escape, NUL: none is XML


@dataclass
class Fault:
    kind: FaultKind
    asset: str | None = None  # the schema title starts with this (None: any asset)
    requests: set[int] | None = None  # request numbers it hits (None: any)
    times: int | None = None  # how many requests it hits at most (None: every match)
    seconds: float = 0.0  # slow: the delay; 429: Retry-After; die: downtime (0: until revive())
    hits: int = 0

    def matches(self, number: int, title: str) -> bool:
        return (
            (self.requests is None or number in self.requests)
            and (self.asset is None or title.startswith(self.asset))
            and (self.times is None or self.hits < self.times)
        )


@dataclass
class Record:
    number: int
    title: str
    stream: bool
    fault: str | None


@dataclass
class FaultServer:
    """The server in a background thread; ``with FaultServer() as server:`` gives ``server.url`` (``.../v1``)."""

    faults: list[Fault] = field(default_factory=list)
    log: list[Record] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _open: set[socket.socket] = field(default_factory=set)
    _down: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FaultServer:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self.die()

    def _start(self) -> None:
        proxy = self

        class Handler(_Handler):
            server_proxy = proxy

        server = _Server(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def die(self) -> None:
        """Stop listening and drop every open connection: clients get connection refused or a reset."""
        with self._lock:
            self._down = True  # a request accepted while the listener shuts down is reset, not answered
            server, self._server = self._server, None
            conns, self._open = set(self._open), set()
        if server is not None:
            server.shutdown()
            server.server_close()
        for conn in conns:
            _reset(conn)

    def revive(self) -> None:
        """Listen again on the same port."""
        if self._server is None and not self._stopping.is_set():
            self._start()
            self._down = False

    @property
    def alive(self) -> bool:
        return self._server is not None

    def calls(self, asset: str | None = None, since: int = 0) -> int:
        """Requests for an asset (schema title prefix), or all, after request number ``since``."""
        return sum(1 for r in self.log if r.number > since and (asset is None or r.title.startswith(asset)))

    def titles(self, since: int = 0) -> list[str]:
        return [r.title for r in self.log if r.number > since]

    @property
    def count(self) -> int:
        return len(self.log)

    def _admit(self, title: str, stream: bool) -> tuple[int, Fault | None]:
        with self._lock:
            number = len(self.log) + 1
            fault = next((f for f in self.faults if f.matches(number, title)), None)
            if fault is not None:
                fault.hits += 1
                self._down = self._down or fault.kind == "die"  # nothing after this request is answered
            self.log.append(Record(number, title, stream, fault.kind if fault else None))
            return number, fault

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._open.add if add else self._open.discard)(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent: the faults break connections on purpose."""


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed server's kernel would."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_proxy: FaultServer

    def setup(self) -> None:
        super().setup()
        self.server_proxy._track(self.connection, True)

    def finish(self) -> None:
        self.server_proxy._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "faulty", "object": "model", "owned_by": "tests"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        schema = request_schema(body)
        stream = bool(body.get("stream"))
        proxy = self.server_proxy
        if proxy._down:
            self.close_connection = True
            _reset(self.connection)
            return
        _, fault = proxy._admit(str(schema.get("title", "")), stream)
        kind = fault.kind if fault else None
        if fault is not None and kind == "die":
            self.close_connection = True
            _reset(self.connection)
            proxy.die()
            if fault.seconds:
                threading.Timer(fault.seconds, proxy.revive).start()
            return
        if fault is not None and kind == "slow" and proxy._stopping.wait(fault.seconds):
            return
        if fault is not None and kind in ("429", "500"):
            status = int(kind)
            headers = {"Retry-After": f"{fault.seconds:g}"} if status == 429 else {}
            self._json(status, {"error": {"message": f"injected {status}", "type": "fault"}}, headers)
            return
        if kind == "reset" and not stream:
            self.close_connection = True
            _reset(self.connection)
            return
        if kind == "garbage":
            self._raw(200, b"<html>502 Bad Gateway</html>", "application/json")
            return
        content, finish = answer(schema, kind)
        if stream:
            self._stream(body, content, finish, reset=kind == "reset")
        else:
            self._json(200, completion(body, content, finish))

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _raw(self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any], content: str, finish: str, *, reset: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n, event in enumerate(stream_events(body, content, finish)):
            if reset and n == 2:
                self.wfile.flush()
                self.close_connection = True
                _reset(self.connection)
                return
            data = f"data: {json.dumps(event) if isinstance(event, dict) else event}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def answer(schema: dict[str, Any], kind: str | None) -> tuple[str, str]:
    """The completion's content and finish reason for a fault kind (None: a valid answer)."""
    data = instance_for(schema)
    if kind == "control":
        data = {k: (f"{v}{CONTROL}" if isinstance(v, str) else v) for k, v in data.items()}
    content = json.dumps(data)
    if kind == "truncated":
        return content[: len(content) // 2], "length"
    if kind == "invalid":
        return "Sure! Here is a great asset for your business, written with care.", "stop"
    return content, "stop"


def usage(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt = sum(approx_tokens(str(m.get("content", ""))) for m in body.get("messages", []))
    completion_tokens = approx_tokens(content)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


def completion(body: dict[str, Any], content: str, finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "faulty"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": usage(body, content),
    }


def stream_events(body: dict[str, Any], content: str, finish: str) -> Iterator[dict[str, Any] | str]:
    """The answer as chat.completion.chunk events in four pieces, a usage chunk, then [DONE]."""
    base = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "faulty")}  # fmt: skip
    step = max(1, len(content) // 4 + 1)
    pieces = [content[i : i + step] for i in range(0, len(content), step)] or [""]
    for n, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish, "logprobs": None}]}
    yield {**base, "choices": [], "usage": usage(body, content)}
    yield "[DONE]"
