"""The routing plan shared by every API and controller: which paths of which host go
where, and which of them carry a rate limit.

A rate limit applies to the paths under its prefix, so it becomes a route of its own
(the longest prefix wins in both Ingress and Gateway API matching) that sends them to
the Service the host would have sent them to anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.edge.spec import EdgeSpec, HostSpec, RateLimitSpec, RouteSpec


@dataclass(frozen=True)
class PathRoute:
    host: str
    path: str
    service: str
    port: int | None = None
    """None for the app's own Service, whose port the Edge knows."""
    rate_limit: RateLimitSpec | None = None


def route_for(host: HostSpec, path: str) -> RouteSpec | None:
    """The route of the longest prefix covering `path`, or None if none does."""
    covering = [r for r in host.routes if path.startswith(r.path)]
    return max(covering, key=lambda r: len(r.path)) if covering else None


def uncovered_limits(spec: EdgeSpec) -> list[str]:
    """Rate-limited paths that none of their hosts routes: a limit on nothing is a mistake.
    A limit applies on every host it names (all of them when it names none) that routes its path."""
    return [limit.path for limit in spec.rate_limits
            if all(route_for(host, limit.path) is None for host in spec.hosts if limit.applies_to(host.name))]


def plan(spec: EdgeSpec) -> list[PathRoute]:
    """Every host's routes, then one route per rate limit and host."""
    routes = [PathRoute(host.name, route.path, route.service, route.port) for host in spec.hosts for route in host.routes]
    for host in spec.hosts:
        for limit in spec.rate_limits:
            covering = route_for(host, limit.path) if limit.applies_to(host.name) else None
            if covering is not None:
                routes = [r for r in routes if not (r.host == host.name and r.path == limit.path)]
                routes.append(PathRoute(host.name, limit.path, covering.service, covering.port, limit))
    return routes
