"""Entry point the Pulumi CLI runs for `--policy-pack policy`; the policies are in pack.py."""

from pulumi_policy import PolicyPack

from pack import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES)
