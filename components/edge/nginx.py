"""ingress-nginx annotations: the options it reads per Ingress, never a snippet."""

from __future__ import annotations

from components.edge.spec import EdgeSpec, RateLimitSpec
from components.quantities import parse_quantity

PREFIX = "nginx.ingress.kubernetes.io/"


def nginx_size(quantity: str) -> str:
    """A byte count the way nginx writes sizes (16m is 16 MiB), rounded up."""
    size = int(parse_quantity(quantity))
    for unit, factor in (("m", 2**20), ("k", 2**10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{-(-size // 2**10)}k"


def annotations(spec: EdgeSpec, limit: RateLimitSpec | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if spec.force_https:
        found["ssl-redirect"] = "true"
        # Also when TLS ends in front of the controller (a cloud load balancer).
        found["force-ssl-redirect"] = "true"
    if spec.max_body_size is not None:
        found["proxy-body-size"] = nginx_size(spec.max_body_size)
    if spec.timeout_seconds is not None:
        found["proxy-read-timeout"] = str(spec.timeout_seconds)
        found["proxy-send-timeout"] = str(spec.timeout_seconds)
    if limit is not None:
        # Per client address; the burst is a multiple of the rate (capabilities.py checks it).
        found["limit-rps" if limit.per == "second" else "limit-rpm"] = str(limit.requests)
        found["limit-burst-multiplier"] = str(limit.allowed_burst // limit.requests)
    if spec.cors is not None:
        cors = spec.cors
        found.update({
            "enable-cors": "true",
            "cors-allow-origin": ", ".join(cors.allow_origins),
            "cors-allow-methods": ", ".join(cors.allow_methods),
            "cors-allow-headers": ", ".join(cors.allow_headers),
            "cors-allow-credentials": str(cors.allow_credentials).lower(),
            "cors-max-age": str(cors.max_age_seconds),
        })
    return {PREFIX + name: value for name, value in found.items()}
