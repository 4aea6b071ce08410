"""Secrets never reach disk: which headers a fixture keeps, which values are credentials, and the final scan.

* request headers: only those that matter for replay and reading are kept (``KEPT_REQUEST_HEADERS``); credential
  headers (``Authorization``, API-key and token headers, cookies) are kept as ``[REDACTED]``, so a reader sees the
  request was authenticated, never with what;
* response headers: ``KEPT_RESPONSE_HEADERS`` only (``Set-Cookie`` and the rest are dropped);
* query parameters that look like credentials (``token``, ``api_key``, ``key``, ``password``, ``signature`` …)
  are replaced by ``[REDACTED]``;
* before a file is written, ``leaks`` looks for every credential the client sent — raw, JSON-escaped,
  URL-encoded, base64 (standard and URL-safe, at any alignment) and hex — in the file's text; the recorder
  refuses to save a file where one is found. Credentials shorter than ``MIN_SECRET`` characters are redacted
  but not searched for: they would be found in ordinary text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = [
    "KEPT_REQUEST_HEADERS",
    "KEPT_RESPONSE_HEADERS",
    "MIN_SECRET",
    "REDACTED",
    "credentials",
    "is_credential_header",
    "is_credential_param",
    "leaks",
    "redact_query",
    "request_headers",
    "response_headers",
]

REDACTED = "[REDACTED]"
MIN_SECRET = 8
KEPT_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "content-type",
        "user-agent",
        "x-letta-mock",  # letta-mock's controls, when the upstream is a mock
        "x-stainless-lang",
        "x-stainless-package-version",  # the real server's "is this a 1.x SDK" test reads it (wire doc §4)
        "x-stainless-async",
        "x-letta-source",
        "x-project-id",
        "x-project",
        "user_id",
    }
)
KEPT_RESPONSE_HEADERS = frozenset({"content-type", "retry-after", "x-should-retry", "location"})
_CREDENTIAL_HEADER = re.compile(r"(authorization|api[-_]?key|token|secret|password|cookie|session|auth)", re.I)
_CREDENTIAL_PARAM = re.compile(r"(token|key|secret|password|passwd|auth|signature|^sig$|credential|session)", re.I)


def is_credential_header(name: str) -> bool:
    return _CREDENTIAL_HEADER.search(name) is not None


def is_credential_param(name: str) -> bool:
    return _CREDENTIAL_PARAM.search(name) is not None


def request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The request headers a fixture keeps (names in lower case), credentials as ``[REDACTED]``."""
    kept: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if is_credential_header(key):
            kept[key] = REDACTED
        elif key in KEPT_REQUEST_HEADERS:
            kept[key] = value
    return kept


def response_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers if name.lower() in KEPT_RESPONSE_HEADERS}


def redact_query(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, REDACTED if _CREDENTIAL_PARAM.search(name) else value) for name, value in pairs]


def credentials(headers: Iterable[tuple[str, str]], query: Iterable[tuple[str, str]]) -> set[str]:
    """Every credential a request carries: credential header values (and the token after ``Bearer``/``Basic``,
    a Basic password, each cookie's value) and credential-like query values."""
    found: set[str] = set()
    for name, value in headers:
        if not is_credential_header(name):
            continue
        found.add(value)
        scheme, _, token = value.partition(" ")
        if token:
            found.add(token.strip())
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(token.strip()).decode().partition(":")
                    found |= {user, password}
                except (ValueError, UnicodeDecodeError):
                    pass
        if "cookie" in name.lower():
            for part in value.split(";"):
                found.add(part.partition("=")[2].strip())
    found |= {value for name, value in query if _CREDENTIAL_PARAM.search(name)}
    return {value for value in found if len(value) >= MIN_SECRET}


def _encodings(secret: str) -> dict[str, list[str]]:
    raw = secret.encode()
    forms: dict[str, list[str]] = {
        "raw": [secret],
        "JSON-escaped": [json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]],
        "URL-encoded": [quote(secret, safe=""), quote_plus(secret), quote(secret)],
        "hex": [binascii.hexlify(raw).decode()],
        "base64": [],
    }
    # Base64 of a secret inside a longer text depends on its alignment: for each of the three, the characters
    # that encode only the secret's bytes.
    for shift in range(3):
        padded = b"\0" * shift + raw
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(padded).decode().rstrip("=")
            start = -(-shift * 4 // 3)  # characters touched by the padding bytes
            end = len(padded) * 4 // 3  # characters whose bits all come from the secret's bytes
            core = text[start:end] if end > start else ""
            if len(core) >= MIN_SECRET:
                forms["base64"].append(core)
    return forms


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """How ``text`` still holds any of ``secrets``: one line per encoding found (never the secret itself)."""
    found = []
    lowered = text.lower()
    for index, secret in enumerate(sorted(secrets), start=1):
        for encoding, forms in _encodings(secret).items():
            haystack = lowered if encoding in ("hex", "URL-encoded") else text
            if any(form and (form.lower() if haystack is lowered else form) in haystack for form in forms):
                found.append(f"credential #{index} ({len(secret)} characters) found {encoding}")
    return found
