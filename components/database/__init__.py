"""The Database component (PostgreSQL) and its spec."""

from components.database.component import Database, DatabaseArgs
from components.database.spec import DatabaseSpec

__all__ = ["Database", "DatabaseArgs", "DatabaseSpec"]
