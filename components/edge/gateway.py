"""Gateway API objects (gateway.networking.k8s.io/v1): the Gateway a stack may create and its HTTPRoutes."""

from __future__ import annotations

from typing import Any

from components.naming import k8s_name

API_VERSION = "gateway.networking.k8s.io/v1"
GROUP = "gateway.networking.k8s.io"
DEFAULT_CLASS = {"envoy-gateway": "eg", "traefik": "traefik"}
"""The GatewayClass each controller's own installation creates."""
DEFAULT_PORTS = {"traefik": (8000, 8443)}
"""Listener ports by controller, where they are not 80 and 443: Traefik matches a listener to
the entry point on the same port, and its chart opens `web` on 8000 and `websecure` on 8443."""


def ports(controller: str, http_port: int | None, https_port: int | None) -> tuple[int, int]:
    default_http, default_https = DEFAULT_PORTS.get(controller, (80, 443))
    return http_port or default_http, https_port or default_https


def https_listener(host: str) -> str:
    return k8s_name("https", host.replace(".", "-"))


def tls_secret(host: str) -> str:
    return k8s_name(host.replace(".", "-"), "tls")


def gateway_spec(class_name: str, hosts: list[str], http_listener: str, tls: bool,
                 listener_ports: tuple[int, int] = (80, 443)) -> dict[str, Any]:
    """Plain HTTP for every host (the redirect and ACME challenges), and HTTPS per host
    with that host's certificate; routes only from the stack's own namespace."""
    same_namespace = {"namespaces": {"from": "Same"}}
    http_port, https_port = listener_ports
    listeners = [{"name": http_listener, "protocol": "HTTP", "port": http_port, "allowedRoutes": same_namespace}]
    if tls:
        listeners += [
            {
                "name": https_listener(host),
                "hostname": host,
                "protocol": "HTTPS",
                "port": https_port,
                "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": tls_secret(host)}]},
                "allowedRoutes": same_namespace,
            }
            for host in hosts
        ]
    return {"gatewayClassName": class_name, "listeners": listeners}


def parent(gateway: str, namespace: str, section: str | None) -> dict[str, Any]:
    ref = {"group": GROUP, "kind": "Gateway", "name": gateway, "namespace": namespace}
    return {**ref, "sectionName": section} if section else ref


def redirect_route_spec(parents: list[dict[str, Any]], hosts: list[str]) -> dict[str, Any]:
    return {
        "parentRefs": parents,
        "hostnames": hosts,
        "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
    }


def route_spec(
    parents: list[dict[str, Any]],
    host: str,
    path: str,
    service: str,
    port: int,
    *,
    response_headers: dict[str, str],
    timeout_seconds: int | None,
    extension_filters: list[dict[str, Any]],
) -> dict[str, Any]:
    filters: list[dict[str, Any]] = []
    if response_headers:
        filters.append({
            "type": "ResponseHeaderModifier",
            "responseHeaderModifier": {"set": [{"name": n, "value": v} for n, v in response_headers.items()]},
        })
    filters += extension_filters
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "backendRefs": [{"kind": "Service", "name": service, "port": port}],
    }
    if filters:
        rule["filters"] = filters
    if timeout_seconds is not None:
        rule["timeouts"] = {"request": f"{timeout_seconds}s"}
    return {"parentRefs": parents, "hostnames": [host], "rules": [rule]}


def extension_ref(middleware: str) -> dict[str, Any]:
    """A Traefik Middleware as an HTTPRoute filter."""
    return {"type": "ExtensionRef", "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": middleware}}
