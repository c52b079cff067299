"""Kubernetes resource quantities ("500m", "1.5", "512Mi", "2G") as numbers.

Config validation needs them to compare limits with requests, and later to derive
settings (such as database memory) from a container's memory limit.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_QUANTITY = re.compile(r"^(?P<number>\d+(\.\d+)?|\.\d+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity; ValueError if it is not one."""
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)")
    number = Decimal(match["number"])
    suffix = match["suffix"]
    return number * (_BINARY[suffix] if suffix in _BINARY else _DECIMAL[suffix])


def _cpu(text: str) -> str:
    value = parse_quantity(text)
    if value < Decimal("0.001"):
        raise ValueError(f"{text!r} is less than the smallest CPU amount, 1m")
    return text


def _memory(text: str) -> str:
    value = parse_quantity(text)
    if value < 2**20:
        # "256m" is 0.256 bytes, a classic slip for "256Mi"
        raise ValueError(f"{text!r} is under 1Mi; memory is written like 256Mi or 1Gi")
    return text


CpuQuantity = Annotated[str, AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
