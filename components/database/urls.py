"""The connection settings apps expect, in the forms the seed apps read them."""

from __future__ import annotations

from urllib.parse import quote


def connection_env(*, user: str, password: str, host: str, port: int, database: str) -> dict[str, str]:
    """Environment for an app: the URL in each dialect the apps use, and libpq's variables."""
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    address = f"{host}:{port}/{quote(database, safe='')}"
    url = f"postgresql://{credentials}@{address}"
    return {
        "DATABASE_URL": url,
        "SQLALCHEMY_DATABASE_URI": url,
        # FastAPI apps on SQLAlchemy's asyncio engine
        "ASYNC_DATABASE_URL": f"postgresql+asyncpg://{credentials}@{address}",
        "PGHOST": host,
        "PGPORT": str(port),
        "PGDATABASE": database,
        "PGUSER": user,
        "PGPASSWORD": password,
    }


DIRECT_KEYS = {
    "DATABASE_URL": "DATABASE_DIRECT_URL",
    "SQLALCHEMY_DATABASE_URI": "DATABASE_DIRECT_URL",
    "PGHOST": "DATABASE_DIRECT_HOST",
    "PGPORT": "DATABASE_DIRECT_PORT",
}
"""What a job that must bypass the pooler reads instead: variable -> key of the app Secret."""


def with_direct(pooled: dict[str, str], direct: dict[str, str]) -> dict[str, str]:
    """Pooled settings for the app, plus the direct ones for migrations and backups: the URL,
    and the host and port for tools that read libpq's variables."""
    return {**pooled, "DATABASE_DIRECT_URL": direct["DATABASE_URL"],
            "DATABASE_DIRECT_HOST": direct["PGHOST"], "DATABASE_DIRECT_PORT": direct["PGPORT"]}


def with_read(env: dict[str, str], read: dict[str, str]) -> dict[str, str]:
    """The app's settings plus the read replicas' URLs, for queries that may lag a little."""
    return {**env, "DATABASE_READ_URL": read["DATABASE_URL"], "ASYNC_DATABASE_READ_URL": read["ASYNC_DATABASE_URL"]}
