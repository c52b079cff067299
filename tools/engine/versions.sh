# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Sourced by build.sh and env.sh: the engine's pinned versions and where its binaries live.
# One place, so the builder and the environment always agree on the cache key.

PULUMI_VERSION=v3.274.1
# The proxy serves pulumi-kubernetes' provider module only at this pseudo-version,
# which is the commit of the v4.25.0 tag (f47bc2d6f199).
K8S_PROVIDER_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199
K8S_PROVIDER_VERSION=4.25.0
K8S_SDK_VERSION=v4.25.0
RANDOM_PROVIDER_VERSION=4.21.1
# Bump when the build steps change in a way that makes older binaries wrong.
ENGINE_RECIPE_REVISION=1

ENGINE_KEY="pulumi-${PULUMI_VERSION#v}_kubernetes-${K8S_PROVIDER_VERSION}_random-${RANDOM_PROVIDER_VERSION}_r${ENGINE_RECIPE_REVISION}"
# Outside the repo, so every clone (and CI's fresh clone) reuses the same binaries.
SHIPYARD_CACHE=${SHIPYARD_CACHE:-$HOME/.cache/shipyard}
ENGINE_DIR=$SHIPYARD_CACHE/engine/$ENGINE_KEY
ENGINE_BIN=$ENGINE_DIR/bin
# What a complete engine is: the CLI, the Python language host and its exec shim, the providers.
ENGINE_BINARIES=(pulumi pulumi-language-python pulumi-language-python-exec
                 pulumi-resource-kubernetes pulumi-resource-random)
