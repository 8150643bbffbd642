"""OpenAI-compatible chat endpoints: where they are, how keys are found, how calls are retried.

The `openai` client is built with max_retries=0 and an explicit timeout; retries happen here so
attempts are counted and logged, backoff is configurable (tiny in tests), `Retry-After` is
honoured up to a cap, and a per-run deadline stops runaway waits. Redirects are not followed
(a redirect would carry the prompt to another origin). Every error text is redacted.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runner.redact import Redactor
from runner.students import Call
from warehouse.core.errors import ConfigError, EndpointError

if TYPE_CHECKING:
    import openai

RETRY_STATUS = frozenset({408, 409, 429})
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


@dataclass(frozen=True)
class EndpointConfig:
    provider: str
    base_url: str
    api_key_env: str | None
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 120.0


PROVIDERS: dict[str, EndpointConfig] = {
    "openai": EndpointConfig("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    "deepinfra": EndpointConfig("deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
    "together": EndpointConfig("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "openrouter": EndpointConfig("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "ollama": EndpointConfig("ollama", "http://127.0.0.1:11434/v1", None),
    "vllm": EndpointConfig("vllm", "http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
    "local": EndpointConfig("local", "http://127.0.0.1:8000/v1", "LOCAL_API_KEY"),
}
_FIELDS = (
    "base_url",
    "api_key_env",
    "timeout_s",
    "max_retries",
    "backoff_s",
    "backoff_max_s",
    "retry_after_max_s",
)


def resolve_endpoint(provider: str, tables: dict[str, Any] | None = None, **overrides: Any) -> EndpointConfig:
    """Built-in provider defaults, then a [providers.NAME] table, then explicit overrides."""
    table = dict((tables or {}).get(provider, {}))
    base = PROVIDERS.get(provider)
    if base is None and "base_url" not in table and not overrides.get("base_url"):
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(
            f"unknown provider {provider!r}: use one of {known} or give [providers.{provider}] base_url"
        )
    cfg = base or EndpointConfig(provider, "", f"{provider.upper().replace('-', '_')}_API_KEY")
    changes = {k: v for k, v in {**table, **overrides}.items() if v is not None}
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ConfigError(
            f"[providers.{provider}]: unknown keys {sorted(unknown)}; allowed: {', '.join(_FIELDS)}"
        )
    try:
        cfg = replace(cfg, **{k: _typed(k, v) for k, v in changes.items()})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"[providers.{provider}]: {e}") from e
    check_base_url(cfg.base_url)
    return cfg


def _typed(key: str, value: Any) -> Any:
    if key == "max_retries":
        return int(value)
    if key.endswith("_s"):
        return float(value)
    return str(value) if value != "" else None


def check_base_url(url: str) -> str:
    """Only https, or plain http to a loopback host; no credentials or query in the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"base_url {url!r} must be an https:// URL (or http:// to a loopback host)")
    if parts.username or parts.password or parts.query:
        raise ConfigError(
            "base_url must not contain credentials or a query string; keys come from an env var"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"base_url {url!r} is plain http to a non-loopback host: the key would travel in "
            "clear text; use https://"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_key(cfg: EndpointConfig) -> str:
    if cfg.api_key_env is None:
        return "unused"
    key = os.environ.get(cfg.api_key_env, "").strip()
    if key:
        return key
    if _is_loopback(urlsplit(cfg.base_url).hostname or ""):
        return "unused"
    raise ConfigError(
        f"no API key: set ${cfg.api_key_env} for provider {cfg.provider} (keys are never flags)"
    )


class Deadline:
    """A per-run wall-clock budget (None = no limit)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at: float | None = None

    def start(self) -> None:
        """Start the clock (after set-up such as importing the client)."""
        if self.seconds is not None:
            self.at = time.monotonic() + self.seconds

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0


class Endpoint:
    """One chat-completions endpoint with explicit timeout, retry policy and redaction."""

    def __init__(self, cfg: EndpointConfig, redactor: Redactor, deadline: Deadline | None = None) -> None:
        self.cfg, self.redact = cfg, redactor
        self.deadline = deadline or Deadline(None)
        key = read_key(cfg)
        redactor.add(key)
        self._client = _make_client(cfg, key)

    def close(self) -> None:
        self._client.close()

    def chat_json(
        self, model: str, messages: list[dict[str, str]], *, role: str, phase: str, **decode: Any
    ) -> tuple[dict[str, Any] | None, Call]:
        """One call with retries. Returns the parsed JSON object (None if unparsable) and its Call."""
        start = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._create(model, messages, decode)
                break
            except Exception as e:  # noqa: BLE001 -- classified below; never re-raised unredacted
                delay = self._retry_delay(e, attempts)
                if delay is None and (isinstance(e, _DeadlineReached) or self.deadline.expired()):
                    raise DeadlineReached("deadline reached") from None
                if delay is None:
                    raise EndpointError(self._failure(model, e, attempts)) from None
                time.sleep(delay)
        call = Call(role, phase, (time.perf_counter() - start) * 1000, attempts=attempts)
        usage = getattr(response, "usage", None)
        call.prompt_tokens = getattr(usage, "prompt_tokens", None)
        call.completion_tokens = getattr(usage, "completion_tokens", None)
        content = _content(response)
        # the transcript, redacted here too (the log writer redacts every record as well): a
        # server may echo the key in a reply, and a prompt may quote one
        call.messages = [{k: self.redact(v) for k, v in m.items()} for m in messages]
        call.completion = self.redact(content)
        parsed = parse_json_object(content)
        if parsed is None:
            call.error = "malformed_json"
        return parsed, call

    def _create(self, model: str, messages: list[dict[str, str]], decode: dict[str, Any]) -> Any:
        timeout = self.cfg.timeout_s
        left = self.deadline.remaining()
        if left is not None:
            if left <= 0:
                raise _DeadlineReached()
            timeout = max(0.05, min(timeout, left))
        completions: Any = self._client.chat.completions  # messages are plain dicts
        return completions.create(
            model=model,
            messages=messages,
            response_format={"type": "json_object"},
            timeout=timeout,
            **decode,
        )

    def _retry_delay(self, error: Exception, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if isinstance(error, _DeadlineReached) or attempts > self.cfg.max_retries:
            return None
        if not _retryable(error):
            return None
        wait = _retry_after(error)
        if wait is not None and wait > self.cfg.retry_after_max_s:
            return None
        if wait is None:
            backoff = min(self.cfg.backoff_max_s, self.cfg.backoff_s * 2 ** (attempts - 1))
            wait = backoff * (1 - 0.25 * random.random())
        left = self.deadline.remaining()
        if left is not None and wait >= left:
            return None
        return wait

    def _failure(self, model: str, error: Exception, attempts: int) -> str:
        what = describe_error(error)
        hint = _hint(error, self.cfg)
        return self.redact(f"{self.cfg.provider} {model}: {what} (after {attempts} attempt(s)){hint}")


class DeadlineReached(EndpointError):
    """The per-run deadline passed during a call (the run stops, resumable)."""


class _DeadlineReached(Exception):
    pass


def _make_client(cfg: EndpointConfig, key: str) -> openai.OpenAI:
    import openai

    http = openai.DefaultHttpxClient(follow_redirects=False, timeout=cfg.timeout_s)
    return openai.OpenAI(
        api_key=key, base_url=cfg.base_url, timeout=cfg.timeout_s, max_retries=0, http_client=http
    )


def _status(error: Exception) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def _retryable(error: Exception) -> bool:
    import openai

    if isinstance(error, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    status = _status(error)
    if status is not None:
        return status in RETRY_STATUS or status >= 500
    return isinstance(error, (openai.APIResponseValidationError, ValueError))


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def describe_error(error: Exception) -> str:
    """Type, status and the server's message; never headers or the request."""
    status = _status(error)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    message = re.sub(r"\s+", " ", str(message))[:300]
    prefix = f"{type(error).__name__} {status}" if status else type(error).__name__
    return f"{prefix}: {message}"


def _hint(error: Exception, cfg: EndpointConfig) -> str:
    status = _status(error)
    if status in (401, 403):
        return f"; check the key in ${cfg.api_key_env}"
    if status is not None and 300 <= status < 400:
        return "; the endpoint redirected, which is refused: use the final base_url"
    if status == 404:
        return "; check base_url and the model name"
    wait = _retry_after(error)
    if wait is not None and wait > cfg.retry_after_max_s:
        return (
            f"; the server asked to wait {wait:g}s, more than "
            f"retry_after_max_s={cfg.retry_after_max_s:g}: try later"
        )
    return ""


def _content(response: Any) -> str:
    try:
        return str(response.choices[0].message.content or "")
    except (AttributeError, IndexError, TypeError):
        return ""


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in a reply: the whole text, a fenced block, or the outermost {...}."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    candidates = [text] + ([fenced.group(1)] if fenced else [])
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{") : text.rindex("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
