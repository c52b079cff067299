"""What a stack can ask of its frontend: a web process of its own, built like the app's.

The frontend is deployed by the same Backend component as the app (Deployment, Service,
autoscaler, disruption budget, probes, hardening), with objects of its own name and the
component label `frontend`, none of the app's Secrets and no way into the data stores:
their policies admit the app's components by name, and `frontend` is none of them.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from components.backend.spec import AppSpec
from components.spec import DNS_LABEL, rule_error

FRONTEND = "frontend"
"""Its `app.kubernetes.io/component` label, and the name its edge routes use (`service: frontend`)."""


class FrontendSpec(AppSpec):
    """A frontend server in front of the app's API (a Next.js `next start` or standalone
    `node server.js`): the app's keys for one web process, on port 3000 by default."""

    enabled: bool = True
    """Deploy it (a stack without the key has none)."""
    name: str = Field(default=FRONTEND, pattern=DNS_LABEL, max_length=12)
    """The suffix of its objects' names: `<app.name>-<name>`."""
    port: int = Field(default=3000, ge=1024, le=65535)
    """The port it listens on; the component sets `PORT` and `HOSTNAME=0.0.0.0` to match."""
    health_path: str = Field(default="/", pattern=r"^/")
    """A cheap page or route for the probes; `/` renders the home page."""
    internet_egress: bool = False
    """Let it reach the internet (server-side rendering that calls the public API URL or
    third-party APIs); otherwise it reaches nothing but DNS."""

    @model_validator(mode="after")
    def _one_web_process(self) -> FrontendSpec:
        extra = [key for key, value in (("workers", self.workers), ("cronJobs", self.cron_jobs),
                                        ("migration", self.migration), ("volumes", self.volumes)) if value]
        if extra:
            raise rule_error(f"{', '.join(f'`{k}`' for k in extra)}: a frontend is one web process; "
                             "workers, scheduled jobs, migrations and shared volumes belong to `app`")
        return self


def frontend_env(spec: FrontendSpec) -> dict[str, str]:
    """What a Node server starts with: production mode, and the port and address to listen on."""
    return {"NODE_ENV": "production", "PORT": str(spec.port), "HOSTNAME": "0.0.0.0", "NEXT_TELEMETRY_DISABLED": "1"}
