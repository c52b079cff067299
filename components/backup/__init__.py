"""The Backup component (scheduled dumps, off-site copy, restore drill, restore) and its spec."""

from components.backup.component import (
    DATABASE_CLIENTS,
    ArchivedVolume,
    Backup,
    BackupArgs,
)
from components.backup.spec import BackupSpec

__all__ = ["DATABASE_CLIENTS", "ArchivedVolume", "Backup", "BackupArgs", "BackupSpec"]
