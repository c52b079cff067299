# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Sourced by build.sh (and whatever runs the proxy): the pinned Traefik and where its binary
# lives, one place so the builder and its users agree on the cache key.

# The newest Traefik whose whole dependency graph the Go module proxy serves. It lists v3.7.11-13
# too, but refuses some of their dependencies (go-http-auth's 2026 fork commit and the SDKs of
# several lego v5 ACME DNS providers, e.g. ucloud, alidns, oci): try `build.sh` after a bump.
TRAEFIK_VERSION=v3.6.12
# Bump when the build steps change in a way that makes older binaries wrong.
EDGE_RECIPE_REVISION=1

EDGE_KEY="traefik-${TRAEFIK_VERSION#v}_r${EDGE_RECIPE_REVISION}"
# Outside the repo, so every clone (and CI's fresh clone) reuses the same binary.
SHIPYARD_CACHE=${SHIPYARD_CACHE:-$HOME/.cache/shipyard}
EDGE_DIR=$SHIPYARD_CACHE/edge/$EDGE_KEY
EDGE_BIN=$EDGE_DIR/bin
TRAEFIK_BIN=$EDGE_BIN/traefik
