"""Tokenizers and quote rules shared by LEARN, USE and the evaluator.

"Token" always means T: lower-cased runs of ASCII letters and digits. A fact-card quote is valid
when it has at most 15 T-tokens; stored quotes are clamped to that many tokens.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUOTE_TOKENS = 15
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"), None)


def tokens(text: str) -> list[str]:
    """T: lower-cased runs of [A-Za-z0-9], in order, repeats kept."""
    return [t.lower() for t in _TOKEN.findall(text)]


def token_set(text: str) -> set[str]:
    return set(tokens(text))


def quote_ok(quote: str) -> bool:
    """A usable quote: at least one token and at most 15."""
    return 0 < len(tokens(quote)) <= MAX_QUOTE_TOKENS


def clamp(quote: str) -> str:
    """The first 15 tokens joined by spaces (lower-cased, punctuation dropped)."""
    return " ".join(tokens(quote)[:MAX_QUOTE_TOKENS])


def norm(text: str) -> str:
    """Normal form for substring tests: NFKC, straight quotes, '-' dashes, no zero-width,
    collapsed whitespace, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).translate(_DASHES)
    text = text.translate(_ZERO_WIDTH)
    return " ".join(text.split()).lower()


def canon(text: str) -> str:
    """Like norm, but '-' counts as a space (option-quote validation)."""
    return " ".join(norm(text).replace("-", " ").split())


def slice_tokens(text: str, n: int = MAX_QUOTE_TOKENS) -> tuple[str, int, int]:
    """The exact slice of `text` covering its first n tokens, with start and end offsets."""
    found = list(_TOKEN.finditer(text))[:n]
    if not found:
        return "", 0, 0
    start, end = found[0].start(), found[-1].end()
    return text[start:end], start, end


def overlap(a: set[str], b: set[str]) -> int:
    return len(a & b)
