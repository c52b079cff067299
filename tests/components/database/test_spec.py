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
    assert default.settings_overrides() == {}


def test_derived_tuning_follows_the_memory_limit():
    settings = tuning.derived(4 * 2**30, 100 * 2**30)
    assert settings["shared_buffers"] == "1024MB"
    assert settings["effective_cache_size"] == "3072MB"
    assert settings["maintenance_work_mem"] == "256MB"
    assert settings["max_wal_size"] == "4096MB" and settings["min_wal_size"] == "1024MB"
    assert settings["shared_preload_libraries"] == "pg_stat_statements"


def test_wal_size_fits_a_small_volume():
    assert tuning.derived(512 * 2**20, 2 * 2**30)["max_wal_size"] == "512MB"


def test_overrides_win_and_max_connections_feeds_work_mem():
    few = tuning.settings_for(4 * 2**30, 10 * 2**30, {"max_connections": "20"})
    many = tuning.settings_for(4 * 2**30, 10 * 2**30, {"max_connections": "400"})
    assert tuning.memory_bytes(few["work_mem"]) > tuning.memory_bytes(many["work_mem"])
    assert tuning.settings_for(2**30, 2**30, {"shared_buffers": "64MB"})["shared_buffers"] == "64MB"


def test_can_configure_tuning_by_postgresql_names():
    overrides = spec(tuning={"shared_buffers": "256MB", "max_connections": 200, "random_page_cost": 1.5}).settings_overrides()
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
