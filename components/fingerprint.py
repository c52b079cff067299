"""One way to turn content into a short, stable text: for rollout annotations and names."""

from __future__ import annotations

import hashlib
import json


def fingerprint(value: object, length: int = 16) -> str:
    """SHA-256 of the value's canonical JSON (keys sorted), cut to `length` hex digits.

    The same content always gives the same text, so an annotation or a name built from
    it changes exactly when the content does.
    """
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:length]
