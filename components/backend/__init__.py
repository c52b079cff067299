"""The Backend component and the specs it is configured with."""

from components.backend import roles
from components.backend.component import Backend, BackendArgs
from components.backend.spec import AppSpec, MigrationSpec, WorkerSpec
from components.env_secret import EnvSecret

__all__ = ["AppSpec", "Backend", "BackendArgs", "EnvSecret", "MigrationSpec", "WorkerSpec", "roles"]
