"""The safety rules as Pulumi stack policies, for `pulumi preview --policy-pack policy`.

Each policy is one rule of the `safety` package, run on the stack's resources as the
policy SDK sees them. The same rules run in the test suite on the recorded stack, so
the two cannot drift apart.

The policy SDK shows `protect` and `delete_before_replace` but not `retain_on_delete`
or `replace_on_changes`; those two are checked by the test suite only.
"""

from __future__ import annotations

from types import ModuleType

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from safety import RULES, Resource, stack_environment

PACK_NAME = "shipyard-safety"


def to_resource(resource: PolicyResource) -> Resource:
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        props=resource.props,
        urn=resource.urn,
        protect=bool(resource.opts.protect),
        retain_on_delete=None,
        delete_before_replace=bool(resource.opts.delete_before_replace),
        replace_on_changes=None,
    )


def policy_for(rule: ModuleType) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [to_resource(r) for r in args.resources]
        report = rule.check(resources, stack_environment(resources))
        for finding in report.violations:
            report_violation(str(finding), finding.urn or None)

    return StackValidationPolicy(
        name=rule.RULE,
        description=rule.TITLE,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES = [policy_for(rule) for rule in RULES]
