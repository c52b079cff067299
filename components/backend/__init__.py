"""The Backend component and the specs it is configured with."""

from components.backend import roles
from components.backend.component import SERVICE_PORT, Backend, BackendArgs
from components.backend.spec import AppSpec, MigrationSpec, WorkerSpec
from components.env_secret import EnvSecret

__all__ = ["SERVICE_PORT", "AppSpec", "Backend", "BackendArgs", "EnvSecret", "MigrationSpec", "WorkerSpec", "roles"]
