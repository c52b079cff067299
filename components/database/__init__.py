"""The Database component (PostgreSQL) and its spec."""

from components.database.component import REPLICA, Database, DatabaseArgs
from components.database.spec import DatabaseSpec

__all__ = ["REPLICA", "Database", "DatabaseArgs", "DatabaseSpec"]
