"""One way to turn content into a short, stable text: for rollout annotations and names."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# The SDK's own way to read an input type (a typed `...Args`) as the dict it sends.
from pulumi._types import input_type_to_dict, is_input_type


def fingerprint(value: object, length: int = 16) -> str:
    """SHA-256 of the value's canonical JSON (keys sorted), cut to `length` hex digits.

    The same content always gives the same text, so an annotation or a name built from
    it changes exactly when the content does.
    """
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:length]


def plain(value: Any) -> Any:
    """Resolved typed args (`PodTemplateSpecArgs`, ...) as plain dicts and lists, to fingerprint."""
    if is_input_type(type(value)):
        return {k: plain(v) for k, v in input_type_to_dict(value).items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
