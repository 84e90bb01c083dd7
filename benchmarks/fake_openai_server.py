"""A simulated OpenAI-compatible chat server for the kit benchmark: fixed latency, always-valid answers.

It answers ``POST /v1/chat/completions`` after sleeping ``--latency`` seconds with a chat completion
whose content is a minimal valid instance of the ``response_format`` schema (``instance_for``, which
the unit tests' fake chat model reuses; this module needs only the standard library) and a ``usage``
block. Every request gets its own thread, so N concurrent requests take one latency, not N.

It runs in a subprocess (``serve``) rather than a thread of the benchmark, so its CPU work does not
compete with the client for the GIL: what the benchmark measures is the client's orchestration.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

OVERRIDES: dict[str, dict[str, Any]] = {
    "AscensionOffer": {"price": 59.0},
    "EntryOffer": {"price": 9.0},
    "OrderBump": {"price": 4.0},
}
READY = "fake-openai-server listening on port "


def instance_for(schema: dict[str, Any]) -> dict[str, Any]:
    """The smallest plausible object that satisfies a pydantic JSON schema (its typed parts are ``$defs``)."""
    defs = schema.get("$defs", {})

    def value(spec: dict[str, Any], name: str) -> Any:
        if "$ref" in spec:
            spec = defs.get(str(spec["$ref"]).rsplit("/", 1)[-1], {})
        if "const" in spec:
            return spec["const"]
        if "enum" in spec:
            return spec["enum"][0]
        kind = spec.get("type")
        if kind == "object":
            return {key: value(inner, f"{name} {key}") for key, inner in spec.get("properties", {}).items()}
        if kind == "string":  # plain words: a field's name in the copy would be template debris
            text = f"Harbor Lane Coffee note {sum(map(ord, name)) % 97}"
            return text[: spec.get("maxLength", 200)]
        if kind == "array":
            return [value(spec.get("items", {}), f"{name} {i}") for i in range(max(1, spec.get("minItems", 1)))]
        if kind == "integer":
            return spec.get("minimum", 1)
        if kind == "number":
            return float(spec.get("minimum", 0) or 1.0)
        return "x"

    data = {name: value(spec, name) for name, spec in schema.get("properties", {}).items()}
    return {**data, **OVERRIDES.get(schema.get("title", ""), {})}


def request_schema(body: dict[str, Any]) -> dict[str, Any]:
    """The schema from either response_format shape: json_object+schema (local) or json_schema (OpenAI)."""
    fmt = body.get("response_format") or {}
    return fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}


def approx_tokens(text: str) -> int:
    """About four characters a token: enough for a plausible usage block."""
    return max(1, len(text) // 4)


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, like a real server, so the client's connection pool is exercised."""

    protocol_version = "HTTP/1.1"
    latency_s = 0.5
    ids = itertools.count(1)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "sim", "object": "model", "owned_by": "bench"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        time.sleep(self.latency_s)
        content = json.dumps(instance_for(request_schema(body)))
        prompt = sum(approx_tokens(str(m.get("content", ""))) for m in body.get("messages", []))
        completion = approx_tokens(content)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        self._send(
            200,
            {
                "id": f"chatcmpl-sim-{next(self.ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "sim"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": usage,
            },
        )

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a line per request would dominate the benchmark's output."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 would refuse bursts of concurrent connections


def run(latency_s: float, port: int = 0) -> None:
    """Serve until killed; print the bound port first so the parent knows where to connect."""
    Handler.latency_s = latency_s
    with Server(("127.0.0.1", port), Handler) as server:
        print(f"{READY}{server.server_address[1]}", flush=True)
        server.serve_forever()


@contextlib.contextmanager
def serve(latency_s: float) -> Iterator[str]:
    """Run the server in a subprocess for the block; yields its ``/v1`` base URL and stops it after."""
    cmd = [sys.executable, "-m", "benchmarks.fake_openai_server", "--latency", str(latency_s)]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(READY):
            raise RuntimeError(f"the fake server did not start (exit code {proc.poll()}): {line!r}")
        yield f"http://127.0.0.1:{int(line[len(READY) :])}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds to sleep before each answer")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    run(args.latency, args.port)
