"""The backup scripts' servers: the real PostgreSQL of the database tests (the same rendered
config and roles), and a real S3 server on loopback for the off-site copy."""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.components.database import conftest as database
from tests.components.database.conftest import SPEC, url_at
from tests.servers import free_port, psql, running

# The database package's server, started again for this package from the same rendering.
rendered, server = database.rendered, database.server
MOTO_SERVER = Path(sys.executable).with_name("moto_server")
ACCESS_KEY, SECRET_KEY = "shipyard-test-key", "shipyard-test-secret"


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except OSError as error:
        # Any HTTP answer (S3 says 403 to an anonymous listing) means it is up.
        return hasattr(error, "code")
    return True


@pytest.fixture(scope="package")
def s3_server():
    """moto's standalone S3 server, as rclone sees any S3-compatible store: an endpoint,
    path-style buckets and a key pair. Yields its endpoint."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with running([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], lambda: _answers(endpoint), "moto S3 server"):
        yield endpoint


@pytest.fixture
def app_url(rendered, server):
    """The app database with two tables of data, emptied again afterwards."""
    url = url_at(rendered, server["port"])
    psql([url], """
        CREATE TABLE loans (id serial PRIMARY KEY, amount numeric(12, 2) NOT NULL, note text,
                            ref uuid NOT NULL DEFAULT uuid_generate_v4());
        CREATE TABLE payments (id serial PRIMARY KEY, loan_id int REFERENCES loans, paid_at timestamptz);
        INSERT INTO loans (amount, note) SELECT i * 10.5, 'loan ' || i FROM generate_series(1, 500) i;
        INSERT INTO payments (loan_id, paid_at)
          SELECT 1 + i % 500, timestamptz '2026-01-01' + i * interval '1 hour' FROM generate_series(1, 2000) i;
    """)
    yield url
    psql([url], "DROP TABLE IF EXISTS payments, loans")


@pytest.fixture
def scratch_url(rendered, server):
    """An empty database owned by the app's role, with the app's extensions, as a restore target."""
    psql([*server["local"], "-d", "postgres"], f'CREATE DATABASE restored OWNER "{SPEC.user}"')
    # As the server's init script makes them in the app's database, as the superuser.
    for extension in SPEC.extensions:
        psql([*server["local"], "-d", "restored"], f'CREATE EXTENSION "{extension}"')
    yield re.sub(rf"/{SPEC.name}$", "/restored", url_at(rendered, server["port"]))
    psql([*server["local"], "-d", "postgres"], "DROP DATABASE restored WITH (FORCE)")
