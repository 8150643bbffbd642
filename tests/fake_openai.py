"""A real HTTP server on 127.0.0.1 speaking enough of the chat-completions API for the runner.

Each request takes the next scripted action (or `default` once the script is used up):
  Reply(content, prompt_tokens, completion_tokens)   200 with a chat completion
  Status(code, message, headers)                     an error response
  Sleep(seconds, then)                               stall, then do `then` (client timeouts)
  EchoKey()                                          401 whose message repeats the Authorization header
  Raw(status, body)                                  arbitrary bytes (malformed HTTP bodies)
  Redirect(location)                                 307 to another origin
Every request is recorded (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    content: str | dict[str, Any]
    prompt_tokens: int = 11
    completion_tokens: int = 7


@dataclass
class Status:
    code: int
    message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sleep:
    seconds: float
    then: Any = None


@dataclass
class EchoKey:
    pass


@dataclass
class Raw:
    status: int
    body: bytes


@dataclass
class Redirect:
    location: str


Action = Reply | Status | Sleep | EchoKey | Raw | Redirect


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAI:
    def __init__(
        self,
        script: list[Action] | None = None,
        default: Callable[[dict[str, Any]], Action] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.script = list(script or [])
        self.default = default or smart_student
        self.delay = delay
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_action(self, body: dict[str, Any]) -> Action:
        with self._lock:
            return self.script.pop(0) if self.script else self.default(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with fake._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    fake.requests.append(Seen(self.path, headers, body))
                if fake.delay:
                    time.sleep(fake.delay)
                self._act(fake.next_action(body), body)

            def _act(self, action: Action, body: dict[str, Any]) -> None:
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    action = action.then or fake.default(body)
                    return self._act(action, body)
                if isinstance(action, Reply):
                    return self._send(200, completion(body, action))
                if isinstance(action, Status):
                    return self._send(action.code, {"error": {"message": action.message}}, action.headers)
                if isinstance(action, EchoKey):
                    auth = self.headers.get("authorization", "")
                    return self._send(401, {"error": {"message": f"Invalid API key: {auth}"}})
                if isinstance(action, Redirect):
                    return self._send(307, {}, {"location": action.location})
                self._raw(action.status, action.body)

            def _send(
                self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                self._raw(code, json.dumps(payload).encode(), headers)

            def _raw(self, code: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(code)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler


def completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "m"),
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


# ---------------------------------------------------------------- a deterministic "model"


def _user(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")


def _system(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body.get("messages", []) if m.get("role") == "system"), "")


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)} - {"the", "a", "of", "is", "by"}


def _options(user: str) -> list[str]:
    return re.findall(r"^[A-J]\. (.*)$", user, re.MULTILINE)


def smart_student(body: dict[str, Any]) -> Action:
    """LEARN: every SOURCE sentence linked to its best-overlapping option.
    USE: the option with the most linked context cards, citing its PRO card and those cards."""
    user = _user(body)
    options = _options(user)
    if "extract fact cards" in _system(body):
        source = user.split("SOURCE:\n", 1)[1].split("\n\nQUESTION:", 1)[0]
        cards = []
        for sentence in re.split(r"(?<=[.!?])\s+", source):
            scores = [len(_words(sentence) & _words(o)) for o in options]
            if scores and max(scores) > 0:
                letter = "ABCDEFGHIJ"[scores.index(max(scores))]
                cards.append({"quote": sentence.rstrip("."), "option": letter})
        return Reply({"cards": cards}, 120, 40)
    context = json.loads(user.split("CONTEXT:\n", 1)[1].split("\n\nQUESTION:", 1)[0])
    pro = json.loads(user.rsplit("OPTION_CARDS: ", 1)[1])
    linked: dict[int, list[str]] = {}
    for card in context["cards"]:
        where = card["where"]
        if where["scope"] == "context" and "option_index" in where:
            linked.setdefault(where["option_index"], []).append(card["id"])
    choice = max(linked, key=lambda i: len(linked[i])) if linked else 0
    letter = "ABCDEFGHIJ"[choice]
    return Reply(
        {"choice": letter, "citations": [pro.get(letter), *linked.get(choice, [])], "confidence": 0.8},
        200,
        30,
    )
