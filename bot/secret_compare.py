"""Constant-time comparison of a secret a request presented (a header, a query value) with the configured one.

Sanic decodes header bytes that are not UTF-8 into lone surrogates; such a value can never be the secret, but
encoding it strictly raises. `surrogatepass` keeps every decoded string encodable, so a garbled header is
simply a wrong secret (403), never a server error.
"""
from __future__ import annotations

import hmac


def same_secret(given: str | None, expected: str) -> bool:
    """True only when `given` equals `expected`; the time taken does not depend on where they differ."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
