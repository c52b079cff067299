"""The Monitoring component (ServiceMonitors, alerting rules, a Grafana dashboard) and its spec."""

from components.monitoring.component import Monitoring, MonitoringArgs, ScrapeTarget
from components.monitoring.rules import ScheduledJob, Watched
from components.monitoring.spec import MonitoringSpec

__all__ = ["Monitoring", "MonitoringArgs", "MonitoringSpec", "ScheduledJob", "ScrapeTarget", "Watched"]
