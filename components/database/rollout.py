"""The rollout gate: app pods start only once the migration of their revision has run.

`pulumi up` orders a rollout itself: every Deployment depends on the migration Job.
A rendered export (`kubernetes:renderYamlToDirectory`) applied by `kubectl apply` or a
GitOps tool has no such order; every object lands at once. The gate carries the order
in the objects, so it holds whoever applies them:

- the migration Job's last step records its revision (the Job's name, a hash of what
  it runs) in the database, in a schema of its own that ORMs do not look at;
- every app pod waits in an init container until the revision its template names is
  recorded. Pods of a revision already migrated (scaling, a restart, a rollback to an
  earlier image) start at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import pod

REVISION_VARIABLE = "MIGRATION_REVISION"
RECORD_CONTAINER = "record-migration"
WAIT_CONTAINER = "wait-for-migration"
POLL_SECONDS = 2

# psql quotes :'revision' itself, so the value never becomes SQL.
RECORD_SQL = (
    "CREATE SCHEMA IF NOT EXISTS shipyard; "
    "CREATE TABLE IF NOT EXISTS shipyard.migrations "
    "(revision text PRIMARY KEY, finished_at timestamptz NOT NULL DEFAULT now()); "
    "INSERT INTO shipyard.migrations (revision) VALUES (:'revision') "
    "ON CONFLICT (revision) DO UPDATE SET finished_at = now();"
)
WAIT_SQL = "SELECT 1 FROM shipyard.migrations WHERE revision = :'revision';"

# SQL reaches psql on stdin because psql leaves variables alone in `-c`; printf and not
# a here-document, which some shells write to a file (the root filesystem is read-only).
PSQL = f'psql "$DATABASE_URL" --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 -v revision="${REVISION_VARIABLE}"'
RECORD_SCRIPT = f"printf '%s\\n' \"{RECORD_SQL}\" | {PSQL}"
# Says why it is still waiting (not recorded yet, or the server's own error), so a pod
# stuck in Init explains itself in `kubectl logs`.
WAIT_SCRIPT = f"""until found=$(printf '%s\\n' "{WAIT_SQL}" | {PSQL} 2>&1) && [ "$found" = 1 ]; do
  echo "waiting for migration ${REVISION_VARIABLE}: ${{found:-not recorded yet}}"
  sleep {POLL_SECONDS}
done"""


@dataclass(frozen=True, kw_only=True)
class RolloutGate:
    """Builds the gate's two containers for one database."""

    image: str
    """An image with psql: the database server's own. Its containers run as the pod they
    join runs (psql needs no account of its own)."""
    connection: Sequence[k8s.core.v1.EnvFromSourceArgs]
    """Where DATABASE_URL comes from: the app's Secret of this database."""
    direct: Sequence[k8s.core.v1.EnvVarArgs] = ()
    """Overrides for the migration's own connection (past a pooler)."""

    def record(self, revision: pulumi.Input[str], run_as_user: int) -> k8s.core.v1.ContainerArgs:
        """The migration Job's last step: only reached when the migration succeeded."""
        return self._container(RECORD_CONTAINER, RECORD_SCRIPT, revision, run_as_user, self.direct)

    def wait(self, revision: pulumi.Input[str], run_as_user: int) -> k8s.core.v1.ContainerArgs:
        """An app pod's first step; the pod's own deadlines bound it."""
        return self._container(WAIT_CONTAINER, WAIT_SCRIPT, revision, run_as_user, ())

    def _container(
        self,
        name: str,
        script: str,
        revision: pulumi.Input[str],
        run_as_user: int,
        env: Sequence[k8s.core.v1.EnvVarArgs],
    ) -> k8s.core.v1.ContainerArgs:
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self.image,
            image_pull_policy="IfNotPresent",
            command=["sh", "-c", script],
            env_from=list(self.connection),
            env=[k8s.core.v1.EnvVarArgs(name=REVISION_VARIABLE, value=revision), *env],
            resources=pod.resource_requirements({"cpu": "10m", "memory": "16Mi"}, {"cpu": "100m", "memory": "64Mi"}),
            security_context=pod.container_security_context(run_as_user),
        )
