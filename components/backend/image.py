"""Where the app's image comes from: a pinned reference, or a build of our own."""

from __future__ import annotations

import pulumi

from components.backend.spec import AppSpec


def app_image(name: str, app: AppSpec, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The image reference the pods run.

    Without `build`, the pinned reference from config. With it, the image is built
    and tagged as that reference; once pushed, pods run it by digest, so a tag that
    is pushed again cannot change what a running stack executes.
    """
    if app.build is None:
        return pulumi.Output.from_input(app.image)
    # Imported here: pulumi_docker is a large SDK, and most stacks run a pinned image.
    import pulumi_docker as docker

    build = app.build
    image = docker.Image(
        f"{name}-image",
        image_name=app.image,
        build=docker.DockerBuildArgs(
            context=build.context,
            dockerfile=build.dockerfile,
            target=build.target,
            platform=build.platform,
        ),
        skip_push=not build.push,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return image.repo_digest if build.push else image.image_name
