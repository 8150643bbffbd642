"""Keep secrets out of logs and messages.

Every text that may reach a log, the database or an error message passes through a Redactor:
it removes the exact configured key values, then anything shaped like a key or a credential.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{10,}"),
    re.compile(r"Bearer\s+\S+", re.IGNORECASE),
    re.compile(r"api[_-]?key\s*[=:]\s*\S+", re.IGNORECASE),
    re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+", re.IGNORECASE),
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a key that contains another is removed whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    @classmethod
    def from_environment(cls, names: Iterable[str] = ()) -> Redactor:
        """The values of these variables and of every `*API_KEY*` variable set now: the keys a run
        may send (built-in providers, `api_key_env` of a plan or `--api-key-env`). Values shorter
        than 8 characters are left out: a placeholder such as `test` would mask ordinary words
        (the key an endpoint really uses joins through `add`, from 4 characters)."""
        wanted = set(names)
        found = (v.strip() for k, v in os.environ.items() if k in wanted or "API_KEY" in k.upper())
        return cls(v for v in found if len(v) >= 8)

    def scrub(self, value: Any) -> Any:
        """`value` (JSON-like: dicts, lists, strings, numbers) with each known secret masked in every
        string, keys included; the exact values only, so logged text is otherwise kept as it was."""
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self.secrets:
            out = out.replace(secret, MASK)
        for pattern in _PATTERNS:
            out = pattern.sub(_mask_match, out)
        return out


def _mask_match(match: re.Match[str]) -> str:
    if match.re.groups:  # keep the "authorization: " prefix, mask the value
        return match.group(1) + MASK
    return MASK


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    return Redactor(secrets)(text)
