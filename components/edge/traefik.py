"""Traefik Middlewares (traefik.io/v1alpha1) for what the standard fields cannot say.

Used by both routing APIs: an Ingress names them in its router annotation, an
HTTPRoute rule through an ExtensionRef filter.
"""

from __future__ import annotations

from typing import Any

from components.edge.spec import EdgeSpec, RateLimitSpec
from components.quantities import parse_quantity

API_VERSION = "traefik.io/v1alpha1"
MIDDLEWARES_ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares"


def headers_spec(spec: EdgeSpec, *, with_standard_headers: bool) -> dict[str, Any] | None:
    """The headers Middleware: HSTS and security headers (only when the route cannot set
    them with a standard filter), and CORS."""
    headers: dict[str, Any] = {}
    if with_standard_headers and spec.hsts is not None:
        headers.update(stsSeconds=spec.hsts.max_age_seconds, stsIncludeSubdomains=spec.hsts.include_sub_domains,
                       stsPreload=spec.hsts.preload)
    if with_standard_headers and spec.security_headers is not None:
        custom = spec.security_headers.headers()
        if custom:
            headers["customResponseHeaders"] = custom
    if spec.cors is not None:
        cors = spec.cors
        headers.update(
            accessControlAllowOriginList=list(cors.allow_origins),
            accessControlAllowMethods=list(cors.allow_methods),
            accessControlAllowHeaders=list(cors.allow_headers),
            accessControlAllowCredentials=cors.allow_credentials,
            accessControlMaxAge=cors.max_age_seconds,
            # Answers differ by Origin, so caches must keep them apart.
            addVaryHeader=True,
        )
    return {"headers": headers} if headers else None


def body_limit_spec(spec: EdgeSpec) -> dict[str, Any] | None:
    if spec.max_body_size is None:
        return None
    return {"buffering": {"maxRequestBodyBytes": int(parse_quantity(spec.max_body_size))}}


def rate_limit_spec(limit: RateLimitSpec) -> dict[str, Any]:
    # Traefik counts per client address by default (the request's remote IP).
    return {"rateLimit": {"average": limit.requests, "period": "1s" if limit.per == "second" else "1m",
                          "burst": limit.allowed_burst}}


def redirect_spec() -> dict[str, Any]:
    return {"redirectScheme": {"scheme": "https", "permanent": True}}


def reference(namespace: str, name: str) -> str:
    """How an Ingress annotation names a Middleware of the CRD provider."""
    return f"{namespace}-{name}@kubernetescrd"
