"""The whole deployment of one stack, wired from its config.

Config is parsed and checked first: a mistake stops here, before any resource
exists. Everything after is wiring; the components hold the decisions.
"""

import pulumi

import stack_config
from components.backend import Backend, BackendArgs
from components.namespace import Namespace, NamespaceArgs
from components.naming import AppIdentity

stack = pulumi.get_stack()
config = stack_config.load(stack_config.current_config(), stack)
production = config.environment == "production"
instance = f"{config.app.name}-{stack}"
identity = AppIdentity(name=config.app.name, instance=instance, version=config.app.version)

namespace = Namespace(
    "namespace",
    NamespaceArgs(
        name=config.namespace_for(stack),
        labels=identity.labels("namespace"),
        dns_namespace=config.network.dns_namespace,
        protect=production,
    ),
)

backend = Backend(
    config.app.name,
    BackendArgs(
        namespace=namespace.name,
        instance=instance,
        app=config.app,
        network=config.network,
        strict_spread=production,
    ),
)

pulumi.export("namespace", namespace.name)
pulumi.export("service_url", backend.service_url)
pulumi.export("image", backend.image)
