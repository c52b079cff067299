"""The safety rules as Pulumi stack policies, for `pulumi preview --policy-pack policy`.

Each policy is one rule of the `safety` package, run on the stack's resources as the
policy SDK sees them. The same rules run in the test suite on the recorded stack, so
the two cannot drift apart.

The policy SDK shows `protect` and `delete_before_replace` but not `retain_on_delete`
or `replace_on_changes`; those two are checked by the test suite only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy

from safety import RULES, Resource, stack_environment

PACK_NAME = "shipyard-safety"
UNKNOWN = "(known after apply)"
REDACTED = "(secret)"
# What stands in for a value the engine cannot know during a preview (a generated
# password, a name hashed from one): something of the right type, so every rule still
# runs on everything that is known. Unknown values are never what a rule is about:
# those are the values the program itself computes, not settings a user could get wrong.
PLACEHOLDERS: dict[str, Any] = {
    proxy.UNKNOWN_STRING_VALUE: UNKNOWN,
    proxy.UNKNOWN_NUMBER_VALUE: 0,
    proxy.UNKNOWN_BOOLEAN_VALUE: False,
    proxy.UNKNOWN_ARRAY_VALUE: [],
    proxy.UNKNOWN_OBJECT_VALUE: {},
    proxy.UNKNOWN_ASSET_VALUE: UNKNOWN,
    proxy.UNKNOWN_ARCHIVE_VALUE: UNKNOWN,
}


def known(value: Any) -> Any:
    """Properties as plain data, with placeholders where the SDK's proxy would raise."""
    if isinstance(value, proxy._DictProxy):  # the SDK's unknown-checking view
        value = value["__target"]
    elif isinstance(value, proxy._ListProxy):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {key: known(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [known(item) for item in value]
    if isinstance(value, str) and value in PLACEHOLDERS:
        return PLACEHOLDERS[value]
    return value


def without_secret_data(props: dict[str, Any]) -> dict[str, Any]:
    """A Secret's keys without their values: no rule needs them, and none may see them."""
    if props.get("kind") != "Secret":
        return props
    hidden = {field: {key: REDACTED for key in (props.get(field) or {})} for field in ("data", "stringData") if field in props}
    return {**props, **hidden}


def to_resource(resource: PolicyResource) -> Resource:
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        props=without_secret_data(known(resource.props)),
        urn=resource.urn,
        protect=bool(resource.opts.protect),
        retain_on_delete=None,
        delete_before_replace=bool(resource.opts.delete_before_replace),
        replace_on_changes=None,
    )


def policy_for(rule: ModuleType) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            resources = [to_resource(r) for r in args.resources]
            report = rule.check(resources, stack_environment(resources))
        except Exception as error:  # noqa: BLE001 (any failure must stop a mandatory policy)
            # A mandatory policy that cannot run is a failed check, never a silent pass.
            report_violation(f"policy {rule.RULE} could not run: {type(error).__name__}: {error}", None)
            return
        for finding in report.violations:
            report_violation(str(finding), finding.urn or None)

    return StackValidationPolicy(
        name=rule.RULE,
        description=rule.TITLE,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES = [policy_for(rule) for rule in RULES]
