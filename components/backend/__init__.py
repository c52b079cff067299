"""The Backend component and the specs it is configured with."""

from components.backend.component import Backend, BackendArgs, EnvSecret
from components.backend.spec import AppSpec, MigrationSpec, WorkerSpec

__all__ = ["AppSpec", "Backend", "BackendArgs", "EnvSecret", "MigrationSpec", "WorkerSpec"]
