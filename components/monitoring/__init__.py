"""The Monitoring component (ServiceMonitors, alerting rules, a Grafana dashboard) and its spec."""

from components.monitoring.component import API_VERSION as MONITORING_API
from components.monitoring.component import Monitoring, MonitoringArgs, ScrapeTarget
from components.monitoring.rules import Watched
from components.monitoring.spec import MonitoringSpec

__all__ = ["MONITORING_API", "Monitoring", "MonitoringArgs", "MonitoringSpec", "ScrapeTarget", "Watched"]
