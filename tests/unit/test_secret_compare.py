"""The constant-time secret check every webhook, the REST token and the handoff token go through."""
from __future__ import annotations

import pytest

from bot.secret_compare import same_secret


def test_only_the_exact_secret_matches():
    assert same_secret("s3cret-token", "s3cret-token")
    assert not same_secret("s3cret-tokeN", "s3cret-token")
    assert not same_secret("s3cret-token ", "s3cret-token")
    assert not same_secret("", "s3cret-token")
    assert not same_secret(None, "s3cret-token")


def test_an_unset_secret_matches_nothing_not_even_an_empty_header():
    assert not same_secret("", "")
    assert not same_secret(None, "")


@pytest.mark.parametrize("garbled", [
    "\udcf0\udc9f\udc8c\udc80",          # how Sanic decodes the bytes of 🌀 sent in a latin-1 header
    "\ud800",                            # a lone high surrogate, which surrogateescape cannot encode
    "sha256=" + "🌀" * 40,
    "\x00\u202e\ufeff",
])
def test_garbled_header_values_are_a_wrong_secret_not_an_error(garbled):
    assert same_secret(garbled, "sha256=" + "0" * 64) is False
