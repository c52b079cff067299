"""What a stack can ask of its edge: hosts, routes, TLS and the proxy's protections.

One typed description, rendered for the routing API and controller the stack names
(`edge.api`, `edge.controller`). What the chosen controller cannot express is a config
error naming the option and the controller (components/edge/capabilities.py), never a
setting quietly dropped.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.quantities import MemoryQuantity
from components.spec import DNS_LABEL, Spec, rule_error

Api = Literal["gateway", "ingress"]
"""Gateway API (`HTTPRoute`) or `networking.k8s.io/v1` Ingress."""
Controller = Literal["envoy-gateway", "traefik", "nginx", "generic"]
"""Who implements the API: decides how the options beyond the standard fields are said
(policies, middlewares, annotations). `generic` uses standard fields only."""

_DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$")
_ORIGIN = re.compile(r"^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _host_name(name: str) -> str:
    """A public DNS name as clients type it; says exactly what is wrong otherwise."""
    if "://" in name:
        raise ValueError(f"{name!r} has a scheme; give the bare name (api.example.com)")
    if re.search(r"\s", name):
        raise ValueError(f"{name!r} has a space")
    if name != name.lower():
        raise ValueError(f"{name!r} has uppercase letters; DNS names are written in lowercase here")
    if ":" in name:
        raise ValueError(f"{name!r} has a port; the edge listens on 80 and 443")
    if "/" in name:
        raise ValueError(f"{name!r} has a path; give paths under `routes`")
    if name.startswith("*."):
        raise ValueError(f"{name!r} is a wildcard; HTTP-01 certificates need each name spelt out")
    if not _DNS_NAME.match(name):
        raise ValueError(f"{name!r} is not a DNS name with at least one dot (api.example.com)")
    return name


def _path_prefix(path: str) -> str:
    if not path.startswith("/") or re.search(r"[\s?#*]", path):
        raise ValueError(f"{path!r} is not a path prefix such as / or /api/ (no spaces, queries or wildcards)")
    return path


HostName = Annotated[str, AfterValidator(_host_name)]
PathPrefix = Annotated[str, AfterValidator(_path_prefix)]


APP_SERVICE = "web"
"""The route target that means the app's own web Service."""
FRONTEND_SERVICE = "frontend"
"""The route target that means the stack's frontend (top-level `frontend`)."""
OWN_SERVICES = (APP_SERVICE, FRONTEND_SERVICE)


class RouteSpec(Spec):
    path: PathPrefix = "/"
    """Requests whose path starts with this go to `service`; the longest prefix wins."""
    service: str = Field(default=APP_SERVICE, pattern=DNS_LABEL)
    """`web`, the app's own Service; `frontend`, the stack's frontend; or the name of another
    Service in the stack's namespace (a docs site), with its `port`."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """The port of a Service other than `web` and `frontend` (theirs are known)."""

    @model_validator(mode="after")
    def _port_for_other_services(self) -> RouteSpec:
        if self.service not in OWN_SERVICES and self.port is None:
            raise rule_error(f"`service` {self.service} is not the stack's own, so `port` is required")
        if self.service in OWN_SERVICES and self.port is not None:
            raise rule_error(f"`port` is for other Services; {self.service}'s port is known")
        return self


class HostSpec(Spec):
    name: HostName
    """A public DNS name (api.example.com): lowercase, no scheme, port or path."""
    routes: Annotated[list[RouteSpec], Field(min_length=1)] = [RouteSpec()]
    """Path prefixes of this host and the Service each goes to."""

    @model_validator(mode="after")
    def _paths_unique(self) -> HostSpec:
        paths = [r.path for r in self.routes]
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            raise rule_error(f"`routes` has the path {', '.join(repeated)} more than once")
        return self


class HstsSpec(Spec):
    """Strict-Transport-Security: browsers then refuse plain HTTP to the host."""

    max_age_seconds: int = Field(default=31536000, ge=0)
    """How long browsers remember to use HTTPS only (a year)."""
    include_sub_domains: bool = True
    """The rule covers every subdomain too."""
    preload: bool = False
    """Ask to be built into browsers (hstspreload.org): hard to undo, so off by default."""

    @model_validator(mode="after")
    def _preload_rules(self) -> HstsSpec:
        if self.preload and (self.max_age_seconds < 31536000 or not self.include_sub_domains):
            raise rule_error("`preload` needs `maxAgeSeconds` of at least 31536000 and `includeSubDomains` on")
        return self

    def header(self) -> str:
        value = f"max-age={self.max_age_seconds}"
        if self.include_sub_domains:
            value += "; includeSubDomains"
        if self.preload:
            value += "; preload"
        return value


ReferrerPolicy = Literal[
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
    "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
]


def _one_line(value: str) -> str:
    if re.search(r"[\r\n]", value):
        raise ValueError("must be one line")
    return value


class SecurityHeadersSpec(Spec):
    """Response headers the guides add in nginx; each can be turned off with null."""

    content_type_options: Literal["nosniff"] | None = "nosniff"
    """X-Content-Type-Options: browsers never guess a response's type."""
    frame_options: Literal["DENY", "SAMEORIGIN"] | None = "DENY"
    """X-Frame-Options: no other site may frame the app (clickjacking)."""
    referrer_policy: ReferrerPolicy | None = "strict-origin-when-cross-origin"
    """Referrer-Policy: how much of the URL other sites see."""
    content_security_policy: Annotated[str, AfterValidator(_one_line)] | None = None
    """Content-Security-Policy, as the app's pages need it; none by default, since only the app knows its sources."""

    def headers(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("X-Content-Type-Options", self.content_type_options),
                ("X-Frame-Options", self.frame_options),
                ("Referrer-Policy", self.referrer_policy),
                ("Content-Security-Policy", self.content_security_policy),
            )
            if value
        }


class RateLimitSpec(Spec):
    """At most `requests` per `per` from one client address, on paths under `path`;
    past it the edge answers 429 without calling the app."""

    path: PathPrefix
    """Limited paths: those under this prefix."""
    requests: int = Field(ge=1, le=100000)
    """Requests allowed per `per` from one client address."""
    per: Literal["second", "minute"] = "second"
    """The window of `requests`."""
    burst: int | None = Field(default=None, ge=1)
    """Requests allowed at once above the rate; default: the rate itself."""
    hosts: Annotated[list[str], Field(min_length=1)] | None = None
    """Hosts (names from `hosts`) the limit holds on; every host that routes `path` when not given."""

    @property
    def allowed_burst(self) -> int:
        return self.burst or self.requests

    def applies_to(self, host: str) -> bool:
        return self.hosts is None or host in self.hosts


class CorsSpec(Spec):
    allow_origins: Annotated[list[str], Field(min_length=1)]
    """Full origins (https://app.example.com); `*` only without credentials."""
    allow_methods: list[Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
    ]
    """Methods a cross-origin request may use."""
    allow_headers: list[str] = ["Authorization", "Content-Type"]
    """Request headers a cross-origin request may send."""
    allow_credentials: bool = False
    """Let browsers send cookies and Authorization with cross-origin requests."""
    max_age_seconds: int = Field(default=600, ge=0, le=86400)
    """How long browsers may cache a preflight answer."""

    @model_validator(mode="after")
    def _origins(self) -> CorsSpec:
        bad = [o for o in self.allow_origins if o != "*" and not _ORIGIN.match(o)]
        if bad:
            raise rule_error(f"`allowOrigins` has {', '.join(map(repr, bad))}: give scheme://host[:port], nothing after")
        if "*" in self.allow_origins and self.allow_credentials:
            raise rule_error("`allowOrigins` `*` with `allowCredentials` is refused by browsers; list the origins")
        return self


IssuerKind = Literal["acme", "self-signed", "ca", "existing"]


class TlsSpec(Spec):
    """Certificates from cert-manager, for every host."""

    enabled: bool = True
    """Serve every host over HTTPS; off only for plain-HTTP test setups."""
    issuer: IssuerKind | None = None
    """`acme` (Let's Encrypt, HTTP-01 through this edge), `self-signed` or `ca` (dev and
    tests): a ClusterIssuer the stack creates; `existing`: one already in the cluster."""
    issuer_name: str | None = Field(default=None, pattern=DNS_LABEL)
    """The ClusterIssuer's name; required for `existing`, else `<app>-<issuer>`."""
    acme_email: str | None = None
    """Where Let's Encrypt sends expiry warnings; required for `acme`."""
    acme_server: Literal["production", "staging"] = "production"
    """Staging certificates are not trusted by browsers but have generous rate limits."""
    ca_secret_name: str | None = Field(default=None, pattern=DNS_LABEL)
    """For `ca`: the Secret with the CA's tls.crt and tls.key, in cert-manager's namespace."""

    @model_validator(mode="after")
    def _issuer_complete(self) -> TlsSpec:
        if not self.enabled:
            return self
        if self.issuer == "acme" and not (self.acme_email and _EMAIL.match(self.acme_email)):
            raise rule_error("`issuer` acme needs `acmeEmail`, an address Let's Encrypt can write to")
        if self.issuer == "existing" and not self.issuer_name:
            raise rule_error("`issuer` existing needs `issuerName`, the ClusterIssuer to use")
        if self.issuer == "ca" and not self.ca_secret_name:
            raise rule_error("`issuer` ca needs `caSecretName`, the Secret holding the CA")
        return self


class GatewaySpec(Spec):
    """The Gateway the routes attach to: made by the stack, or an existing one."""

    create: bool = True
    """Make a Gateway in the stack's namespace, with HTTP and an HTTPS listener per host."""
    class_name: str | None = Field(default=None, pattern=DNS_LABEL)
    """`gatewayClassName` of a created Gateway; default: the controller's usual class."""
    name: str | None = Field(default=None, pattern=DNS_LABEL)
    """An existing Gateway's name (or the created one's; default: the app's name)."""
    namespace: str | None = Field(default=None, pattern=DNS_LABEL)
    """An existing Gateway's namespace; it must admit routes from the stack's namespace."""
    http_port: int | None = Field(default=None, ge=1, le=65535)
    """A created Gateway's plain-HTTP port: the port of a proxy entry point, not of the
    load balancer in front. Default 80, or 8000 on traefik (its chart's `web` entry point)."""
    https_port: int | None = Field(default=None, ge=1, le=65535)
    """A created Gateway's HTTPS port. Default 443, or 8443 on traefik (`websecure`)."""
    http_listener: str = Field(default="http", pattern=DNS_LABEL)
    """An existing Gateway's plain-HTTP listener, for the redirect to HTTPS."""
    https_listener: str | None = Field(default=None, pattern=DNS_LABEL)
    """An existing Gateway's HTTPS listener; default: any listener matching the hosts."""

    @model_validator(mode="after")
    def _existing_named(self) -> GatewaySpec:
        if not self.create and not (self.name and self.namespace):
            raise rule_error("an existing Gateway (`create` false) needs `name` and `namespace`")
        return self


class EdgeSpec(Spec):
    """How the internet reaches the app."""

    enabled: bool = False
    """Give the app a public entrance; off, nothing here is checked or made."""
    api: Api = "gateway"
    """gateway (HTTPRoute, the default for new clusters) or ingress (networking.k8s.io/v1)."""
    controller: Controller = "envoy-gateway"
    """envoy-gateway, traefik, nginx or generic: who implements `api`, which decides how options beyond the standard fields are rendered."""
    ingress_class_name: str | None = Field(default=None, pattern=DNS_LABEL)
    """For `api` ingress: default `nginx` or `traefik` after the controller."""
    gateway: GatewaySpec = GatewaySpec()
    """For `api` gateway: the Gateway to create or to attach to."""
    hosts: list[HostSpec] = []
    """Public names and the paths each routes to the app."""
    tls: TlsSpec = TlsSpec()
    """Certificates for every host, from cert-manager."""
    force_https: bool = True
    """Answer plain HTTP with a permanent redirect to HTTPS."""
    hsts: HstsSpec | None = HstsSpec()
    """Strict-Transport-Security on every response; null sends none."""
    security_headers: SecurityHeadersSpec | None = SecurityHeadersSpec()
    """X-Content-Type-Options, X-Frame-Options, Referrer-Policy and Content-Security-Policy; null sends none."""
    max_body_size: MemoryQuantity | None = None
    """Largest request body (16Mi); larger ones get 413 from the edge."""
    timeout_seconds: int | None = Field(default=None, ge=1, le=3600)
    """How long the edge waits for the app's response before answering 504."""
    await_address: bool = True
    """For `api` ingress: `up` waits until the controller has given each Ingress an address
    (up to 10 minutes), so a missing or broken controller fails the deployment. Off only
    where no controller runs, such as the built-in test cluster."""
    rate_limits: list[RateLimitSpec] = []
    """Requests per client address on path prefixes, on every host or the ones a limit names;
    the longest prefix applies."""
    cors: CorsSpec | None = None
    """Cross-origin requests from browsers: answered at the edge when set."""

    @model_validator(mode="after")
    def _consistent(self) -> EdgeSpec:
        if not self.enabled:
            return self
        problems = []
        if not self.hosts:
            problems.append("`hosts` is empty: name at least one host")
        names = [h.name for h in self.hosts]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append(f"`hosts` has {', '.join(repeated)} more than once")
        if self.tls.enabled and self.tls.issuer is None and self.owns_certificates:
            problems.append("TLS is on (`tls.enabled`) but `tls.issuer` is not set: acme, self-signed, ca or existing")
        if not self.tls.enabled:
            if self.force_https:
                problems.append("`forceHttps` needs TLS (`tls.enabled`)")
            if self.hsts is not None:
                problems.append("`hsts` needs TLS (`tls.enabled`); set it to null for plain HTTP")
        from components.edge import (  # they read this module's types
            capabilities,
            routes,
        )

        problems += capabilities.problems(self)
        uncovered = routes.uncovered_limits(self)
        if uncovered:
            problems.append(f"`rateLimits` on paths no route serves: {', '.join(uncovered)}")
        unknown = sorted({h for r in self.rate_limits for h in r.hosts or () if h not in names})
        if unknown:
            problems.append(f"`rateLimits` names {', '.join(unknown)}, not in `hosts`")
        for host in names:
            limited = [r.path for r in self.rate_limits if r.applies_to(host)]
            twice = sorted({p for p in limited if limited.count(p) > 1})
            if twice:
                problems.append(f"`rateLimits` has the path {', '.join(twice)} more than once for {host}")
        if problems:
            raise rule_error("; ".join(problems))
        return self

    @property
    def owns_certificates(self) -> bool:
        """Whether the stack gets the certificates; an existing Gateway's owner does otherwise."""
        return self.api == "ingress" or self.gateway.create
