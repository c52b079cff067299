"""Envoy Gateway policies (gateway.envoyproxy.io/v1alpha1) attached to the stack's HTTPRoutes."""

from __future__ import annotations

from typing import Any

from components.edge.spec import CorsSpec, EdgeSpec, RateLimitSpec

API_VERSION = "gateway.envoyproxy.io/v1alpha1"


def target(route: str) -> list[dict[str, str]]:
    return [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route}]


def traffic_policy_spec(spec: EdgeSpec, route: str, limit: RateLimitSpec | None) -> dict[str, Any] | None:
    """Body limit and rate limit of one route, or None when it needs neither."""
    policy: dict[str, Any] = {}
    if spec.max_body_size is not None:
        policy["requestBuffer"] = {"limit": spec.max_body_size}
    if limit is not None:
        # Global (shared by every Envoy replica) and Distinct per client address, so the
        # limit means what it means on the other controllers; it needs Envoy Gateway's
        # rate limit service (README).
        policy["rateLimit"] = {
            "type": "Global",
            "global": {
                "rules": [{
                    "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": "0.0.0.0/0"}}],
                    "limit": {"requests": limit.requests, "unit": "Second" if limit.per == "second" else "Minute"},
                }]
            },
        }
    return {"targetRefs": target(route), **policy} if policy else None


def security_policy_spec(cors: CorsSpec, routes: list[str]) -> dict[str, Any]:
    return {
        "targetRefs": [ref for route in routes for ref in target(route)],
        "cors": {
            "allowOrigins": list(cors.allow_origins),
            "allowMethods": list(cors.allow_methods),
            "allowHeaders": list(cors.allow_headers),
            "allowCredentials": cors.allow_credentials,
            "maxAge": f"{cors.max_age_seconds}s",
        },
    }
