"""Which edge option each routing API and controller can express, and how.

| option | gateway, envoy-gateway | gateway, traefik | gateway, generic | ingress, nginx | ingress, traefik | ingress, generic |
|---|---|---|---|---|---|---|
| forceHttps | RequestRedirect filter | RequestRedirect filter | RequestRedirect filter | ssl-redirect annotations | redirectScheme Middleware | - |
| hsts, securityHeaders | ResponseHeaderModifier | ResponseHeaderModifier | ResponseHeaderModifier | - (controller ConfigMap) | headers Middleware | - |
| timeoutSeconds | rule timeouts | - | rule timeouts | proxy-read/send-timeout | - | - |
| maxBodySize | ClientTrafficPolicy | buffering Middleware | - | proxy-body-size | buffering Middleware | - |
| rateLimits | BackendTrafficPolicy | rateLimit Middleware | - | limit-rps / limit-rpm | rateLimit Middleware | - |
| cors | SecurityPolicy | headers Middleware | - | enable-cors annotations | headers Middleware | - |

ingress-nginx adds response headers per Ingress only through configuration snippets,
which this project never writes (CVE-2021-25742); its controller sends HSTS for every
TLS host by default (max-age 31536000, includeSubDomains), so the default `hsts` is
accepted there and any other is an error.
"""

from __future__ import annotations

from components.edge.spec import EdgeSpec, HstsSpec

CONTROLLERS = {
    "gateway": ("envoy-gateway", "traefik", "generic"),
    "ingress": ("nginx", "traefik", "generic"),
}

UNSUPPORTED: dict[tuple[str, str], dict[str, str]] = {
    ("gateway", "generic"): {
        "maxBodySize": "the Gateway API has no standard body limit",
        "rateLimits": "the Gateway API has no standard rate limit",
        "cors": "the CORS filter is not in the Gateway API's standard channel",
    },
    ("gateway", "traefik"): {
        "timeoutSeconds": "Traefik's Gateway API provider ignores HTTPRoute timeouts (v3.6); set backend timeouts "
        "on a ServersTransport and leave `timeoutSeconds` unset",
    },
    ("ingress", "nginx"): {
        "securityHeaders": "ingress-nginx sets response headers per Ingress only with configuration snippets, "
        "which are refused (CVE-2021-25742); set them in the controller's add-headers ConfigMap and make "
        "`securityHeaders` null, or use traefik or the Gateway API",
    },
    ("ingress", "traefik"): {
        "timeoutSeconds": "Traefik takes backend timeouts from a ServersTransport on the Service, not from "
        "the Ingress; set them there and leave `timeoutSeconds` unset",
    },
    ("ingress", "generic"): {
        "forceHttps": "a plain Ingress cannot redirect",
        "hsts": "a plain Ingress cannot add headers",
        "securityHeaders": "a plain Ingress cannot add headers",
        "timeoutSeconds": "a plain Ingress has no timeouts",
        "maxBodySize": "a plain Ingress has no body limit",
        "rateLimits": "a plain Ingress has no rate limits",
        "cors": "a plain Ingress has no CORS",
    },
}

NGINX_DEFAULT_HSTS = HstsSpec()
"""What ingress-nginx sends unless its ConfigMap says otherwise."""


def _asked(spec: EdgeSpec) -> dict[str, bool]:
    return {
        "forceHttps": spec.force_https,
        "hsts": spec.hsts is not None,
        "securityHeaders": spec.security_headers is not None,
        "timeoutSeconds": spec.timeout_seconds is not None,
        "maxBodySize": spec.max_body_size is not None,
        "rateLimits": bool(spec.rate_limits),
        "cors": spec.cors is not None,
    }


def problems(spec: EdgeSpec) -> list[str]:
    """Every option the chosen API and controller cannot express, each naming both."""
    if spec.controller not in CONTROLLERS[spec.api]:
        return [f"`controller` {spec.controller} does not implement `api` {spec.api} "
                f"(choose {', '.join(CONTROLLERS[spec.api])})"]
    found = []
    unsupported = UNSUPPORTED.get((spec.api, spec.controller), {})
    for option, asked in _asked(spec).items():
        if asked and option in unsupported:
            found.append(f"`{option}` cannot be expressed with {spec.api} on {spec.controller}: {unsupported[option]}")
    if (spec.api, spec.controller) == ("ingress", "nginx"):
        if spec.hsts is not None and spec.hsts != NGINX_DEFAULT_HSTS:
            found.append("`hsts` other than the default cannot be expressed with ingress on nginx: the controller "
                         "sends one HSTS header for all hosts, from its ConfigMap (hsts-max-age, hsts-include-subdomains, "
                         "hsts-preload)")
        uneven = [r.path for r in spec.rate_limits if r.allowed_burst % r.requests]
        if uneven:
            found.append(f"`rateLimits` burst must be a multiple of `requests` with ingress on nginx "
                         f"(limit-burst-multiplier): {', '.join(uneven)}")
    if spec.controller == "envoy-gateway" and any(r.burst for r in spec.rate_limits):
        found.append("`rateLimits` burst cannot be expressed with gateway on envoy-gateway: its limits have none")
    if spec.api == "ingress" and spec.controller == "generic" and not spec.ingress_class_name:
        found.append("`ingressClassName` is required with ingress on generic")
    if not spec.owns_certificates and spec.tls.issuer is not None:
        found.append("`tls.issuer` with an existing Gateway (`gateway.create` false): its certificates belong to its "
                     "listeners, which the stack does not own; leave `tls.issuer` unset, the Gateway terminates TLS")
    return found
