"""What a stack can ask of its monitoring: what Prometheus scrapes, and when it alerts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.spec import Spec

LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
METRIC = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"


class AppMetricsSpec(Spec):
    """The app's own /metrics, as its exporter library names things."""

    enabled: bool = False
    """Scrape the web pods (the app must serve metrics, e.g. prometheus-flask-exporter or
    prometheus-fastapi-instrumentator); the request alerts need it."""
    path: str = Field(default="/metrics", pattern=r"^/")
    """Path of the metrics on the app's port."""
    library: Literal["prometheus-flask-exporter", "prometheus-fastapi-instrumentator", "custom"] = (
        "prometheus-flask-exporter"
    )
    """Where the metric names below come from; `custom` takes `requestsMetric` and `durationMetric` as given."""
    requests_metric: str | None = Field(default=None, pattern=METRIC)
    """Counter of requests with a `status` label (`flask_http_request_total`); the library's when not given."""
    duration_metric: str | None = Field(default=None, pattern=METRIC)
    """Histogram of request durations in seconds, without `_bucket` (`flask_http_request_duration_seconds`)."""

    @property
    def requests(self) -> str:
        return self.requests_metric or LIBRARY_METRICS[self.library][0]

    @property
    def duration(self) -> str:
        return self.duration_metric or LIBRARY_METRICS[self.library][1]


LIBRARY_METRICS = {
    "prometheus-flask-exporter": ("flask_http_request_total", "flask_http_request_duration_seconds"),
    "prometheus-fastapi-instrumentator": ("http_requests_total", "http_request_duration_seconds"),
    "custom": ("http_requests_total", "http_request_duration_seconds"),
}


class ThresholdsSpec(Spec):
    """When each alert fires; the defaults suit a typical web backend."""

    error_ratio: float = Field(default=0.05, gt=0, lt=1)
    """Share of requests answered 5xx, over 5 minutes, held for 10."""
    p95_latency_seconds: float = Field(default=1.0, gt=0, le=600)
    """95th percentile of request time, over 5 minutes, held for 10."""
    restarts_per_hour: int = Field(default=3, ge=1, le=1000)
    """Container restarts of one pod in an hour."""
    hpa_at_max_minutes: int = Field(default=15, ge=1, le=1440)
    """Minutes the web autoscaler may sit at its maximum before it is a capacity problem."""
    connections_ratio: float = Field(default=0.8, gt=0, lt=1)
    """Database connections in use, as a share of `max_connections`."""
    replica_lag_seconds: int = Field(default=60, ge=1, le=86400)
    """How far a read replica may lag the primary, held for 5 minutes."""
    memory_ratio: float = Field(default=0.9, gt=0, lt=1)
    """Redis memory in use, as a share of `maxmemory`."""
    certificate_days: int = Field(default=14, ge=1, le=90)
    """Days left on a certificate (cert-manager renews at a third of its life left, 30 of Let's Encrypt's 90)."""


class MonitoringSpec(Spec):
    """ServiceMonitors, alerts (a PrometheusRule) and a Grafana dashboard for the Prometheus operator."""

    enabled: bool = False
    """Create the monitoring objects; they need the Prometheus operator's CRDs in the cluster."""
    labels: dict[str, str] = Field(default={}, max_length=10)
    """Labels the cluster's Prometheus selects monitors and rules by (kube-prometheus-stack: `{release: <its release>}`)."""
    interval_seconds: int = Field(default=30, ge=5, le=600)
    """How often Prometheus scrapes each target."""
    app: AppMetricsSpec = AppMetricsSpec()
    """The app's own metrics."""
    thresholds: ThresholdsSpec = ThresholdsSpec()
    """Alert thresholds."""
    dashboard: bool = True
    """A Grafana dashboard as a ConfigMap that Grafana's sidecar loads (label `grafana_dashboard: "1"`)."""
