"""components/database/spec.py and tuning.py: defaults, overrides, and bad values refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.database import DatabaseSpec, tuning
from components.database.spec import POSTGRES_IMAGES


def spec(**fields) -> DatabaseSpec:
    return DatabaseSpec.model_validate({"enabled": True, **fields})


def errors(context=None, **fields) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        DatabaseSpec.model_validate({"enabled": True, **fields}, context=context)
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors()]


def test_defaults():
    default = spec()
    assert default.mode == "in-cluster" and default.version == 17
    assert default.server_image == POSTGRES_IMAGES[17] and "@sha256:" in default.server_image
    assert default.extensions == ["pg_stat_statements"]
    # Nothing is tuned by hand; the one setting config fixes follows `extensions`.
    assert default.settings_overrides() == {"shared_preload_libraries": "pg_stat_statements"}


def test_derived_tuning_follows_the_memory_limit():
    settings = tuning.derived(4 * 2**30, 100 * 2**30)
    assert settings["shared_buffers"] == "1024MB"
    assert settings["effective_cache_size"] == "3072MB"
    assert settings["maintenance_work_mem"] == "256MB"
    assert settings["max_wal_size"] == "4096MB" and settings["min_wal_size"] == "1024MB"
    # What to preload follows `extensions`, not the server's size.
    assert "shared_preload_libraries" not in settings


def test_wal_size_fits_a_small_volume():
    assert tuning.derived(512 * 2**20, 2 * 2**30)["max_wal_size"] == "512MB"


def test_overrides_win_and_max_connections_feeds_work_mem():
    few = tuning.settings_for(4 * 2**30, 10 * 2**30, {"max_connections": "20"})
    many = tuning.settings_for(4 * 2**30, 10 * 2**30, {"max_connections": "400"})
    assert tuning.memory_bytes(few["work_mem"]) > tuning.memory_bytes(many["work_mem"])
    assert tuning.settings_for(2**30, 2**30, {"shared_buffers": "64MB"})["shared_buffers"] == "64MB"


def test_can_configure_tuning_by_postgresql_names():
    overrides = spec(
        extensions=[], tuning={"shared_buffers": "256MB", "max_connections": 200, "random_page_cost": 1.5}
    ).settings_overrides()
    assert overrides == {"shared_buffers": "256MB", "max_connections": "200", "random_page_cost": "1.5"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("shared_buffers", "256XB", "not a PostgreSQL memory size"),
        ("shared_buffers", "256mb", "not a PostgreSQL memory size"),
        ("max_connections", "lots", "not a whole number"),
        ("checkpoint_completion_target", 1.5, "between 0 and 1"),
        ("log_min_duration_statement", "1 second", "not a duration"),
        ("shared_preload_libraries", "pg_stat_statements; DROP", "library names"),
    ],
)
def test_malformed_values_are_refused(name, value, message):
    [error] = errors(tuning={name: value})
    assert error.startswith(f"tuning.{name}:") and message in error


def test_unknown_setting_names_are_refused():
    [error] = errors(tuning={"shared_bufers": "1GB"})
    assert error.startswith("tuning.shared_bufers: Extra inputs are not permitted")


def test_unknown_extensions_are_refused():
    [error] = errors(extensions=["postgis"])
    assert error.startswith("extensions.0:")


def test_pg_stat_statements_needs_preloading():
    [error] = errors(tuning={"shared_preload_libraries": "auto_explain"})
    assert "shared_preload_libraries" in error


def test_external_mode_needs_a_postgresql_url():
    [error] = errors(mode="external")
    assert "`url` must be a postgresql:// URL" in error
    assert spec(mode="external", url="postgresql://u:p@db.example.com:5432/app").url is not None


def test_url_is_only_for_external_mode():
    [error] = errors(url="postgresql://u:p@h/db")
    assert "only for `mode` external" in error


def test_url_is_masked():
    assert "p4ss" not in repr(spec(mode="external", url="postgresql://u:p4ss@h/db"))


def test_production_needs_a_digest_for_the_server_image():
    [error] = errors(context={"environment": "production"}, image="postgres:17.6")
    assert "must carry a digest in production" in error


def test_a_version_without_a_pinned_image_needs_one():
    [error] = errors(version=16)
    assert "`image` is required for `version` 16" in error


def test_names_must_be_identifiers():
    [error] = errors(name="my-db")
    assert error.startswith("name:")


# -- PgBouncer's pools fit the server ------------------------------------------------------


def pooled(max_connections: int | None = None, **pgbouncer) -> dict:
    tuned = {} if max_connections is None else {"tuning": {"max_connections": max_connections}}
    return {**tuned, "pgbouncer": {"enabled": True, **pgbouncer}}


def test_pool_larger_than_the_server_is_refused():
    [error] = errors(**pooled(200, defaultPoolSize=250, replicas=1))
    assert error == (
        ": `pgbouncer.replicas` (1) x `pgbouncer.defaultPoolSize` (250) = 250 server connections, "
        "plus 6 outside the pools (superuser_reserved_connections 3, exporter 1, migration 1, maintenance 1), "
        "must be <= `tuning.max_connections` (200): lower "
        "`pgbouncer.defaultPoolSize` to 194 or raise `tuning.max_connections` to 256"
    )


def test_pools_of_every_replica_count():
    # Each pooler pod opens its own pool: 3 x 150 against 200.
    [error] = errors(**pooled(200, defaultPoolSize=150, replicas=3))
    assert "(3) x `pgbouncer.defaultPoolSize` (150) = 450 server connections" in error
    assert "lower `pgbouncer.defaultPoolSize` to 64 or raise `tuning.max_connections` to 456" in error


def test_pools_are_checked_against_the_default_max_connections():
    [error] = errors(**pooled(defaultPoolSize=50, replicas=2))
    assert "must be <= `tuning.max_connections` (100, the default)" in error


def test_headroom_is_documented_and_small():
    from components.database.spec import DIRECT_CONNECTIONS

    assert DIRECT_CONNECTIONS["superuser_reserved_connections"] == 3
    assert sum(DIRECT_CONNECTIONS.values()) == 6


def test_pools_that_fit_are_accepted():
    assert spec(**pooled(200, defaultPoolSize=97, replicas=2)).pgbouncer.server_connections == 194
    assert spec(**pooled(defaultPoolSize=20, replicas=2)).pgbouncer.enabled


def test_pools_are_not_checked_when_pgbouncer_is_off():
    assert spec(tuning={"max_connections": 20}, pgbouncer={"defaultPoolSize": 100}).pgbouncer.enabled is False


def test_rendered_pool_settings_are_the_ones_counted():
    # Whatever else PgBouncer could open per pod (a reserve pool, a second user's pool)
    # is fixed in the ini, so the count above is what a pod can really open.
    from components.database import pgbouncer

    pooler = spec(**pooled(defaultPoolSize=30)).pgbouncer
    ini = pgbouncer.pgbouncer_ini(pooler, database="app", server_host="db", server_port=5432)
    assert "default_pool_size = 30" in ini
    assert "reserve_pool_size = 0" in ini
    assert "max_db_connections = 30" in ini
    assert pooler.server_connections == pooler.replicas * 30


# -- shared_preload_libraries follows extensions ----------------------------------------------


def settings_of(database: DatabaseSpec) -> dict[str, str]:
    return tuning.settings_for(2**30, 10 * 2**30, database.settings_overrides())


def test_pg_stat_statements_is_preloaded_when_it_is_an_extension():
    assert settings_of(spec())["shared_preload_libraries"] == "pg_stat_statements"


def test_nothing_is_preloaded_without_pg_stat_statements():
    assert "shared_preload_libraries" not in settings_of(spec(extensions=["uuid-ossp"]))
    assert "shared_preload_libraries" not in settings_of(spec(extensions=[]))


def test_explicit_preload_is_kept_as_given():
    settings = settings_of(spec(extensions=["uuid-ossp"], tuning={"shared_preload_libraries": "auto_explain"}))
    assert settings["shared_preload_libraries"] == "auto_explain"
