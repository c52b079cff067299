"""The example systems' stacks (examples/) that no other end-to-end test deploys: each goes
into the built-in cluster with the real engine and the policy pack, every workload comes up
under Pod Security "restricted", and a second preview changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_all_ready, objects
from tools.examples import SYSTEMS

pytestmark = pytest.mark.e2e

# prod (BlockScore) is deployed and checked by test_local_cluster.py.
DEPLOYED_ELSEWHERE = {"prod"}


@pytest.mark.parametrize("stack", sorted(s.stack for s in SYSTEMS.values() if s.stack not in DEPLOYED_ELSEWHERE))
def test_the_example_deploys_and_every_workload_is_ready(stacks, stack):
    deployed = stacks(f"e2e-{stack}", stack)
    deployed.up()
    namespace = deployed.output("namespace")
    assert_all_ready(deployed.environment, namespace)
    assert objects(deployed.environment, "deployments", namespace), "no Deployment"
    deployed.pulumi("preview", "--expect-no-changes")
