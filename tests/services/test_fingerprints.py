"""Stored fingerprints must not change between releases, nor with the order content was built in."""

from __future__ import annotations

from services.fingerprints import content_fingerprint


def test_the_fingerprint_is_the_sha256_of_canonical_json() -> None:
    content = {"b": {"d": None, "c": [1, 2.5, "x"]}, "a": 1}
    assert content_fingerprint(content) == (
        "643bedb8e44cd356475922d571e9c9da668343261a333db457b2320b6af1f1d7"
    )


def test_key_order_does_not_change_the_fingerprint_but_content_does() -> None:
    one = {"a": 1, "b": {"c": 2, "d": 3}}
    other = {"b": {"d": 3, "c": 2}, "a": 1}
    assert content_fingerprint(one) == content_fingerprint(other)
    assert content_fingerprint(one) != content_fingerprint({"a": 1, "b": {"c": 2, "d": 4}})
