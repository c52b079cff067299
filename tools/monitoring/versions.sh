# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Sourced by build.sh (and whatever checks alerting rules): the pinned Prometheus and where its
# promtool lives, one place so the builder and its users agree on the cache key.

# The newest Prometheus the Go module proxy lists (2026-12): the proxy serves its whole dependency
# graph and it builds with this machine's Go 1.26.8 (its go.mod asks for go 1.26.7, while its
# .promu.yml releases with 1.27): try `build.sh` after a bump. Prometheus tags its Go module
# v0.X.Y for release 3.(X-300).Y, so v0.316.0 is 3.16.0.
PROMETHEUS_VERSION=v0.316.0
# Bump when the build steps change in a way that makes older binaries wrong.
MONITORING_RECIPE_REVISION=1

# The release number people know (and promtool --version prints), derived from the module tag.
_minor=${PROMETHEUS_VERSION#v0.}
PROMTOOL_RELEASE="$(( ${_minor%%.*} / 100 )).$(( ${_minor%%.*} % 100 )).${_minor#*.}"
unset _minor
MONITORING_KEY="promtool-${PROMTOOL_RELEASE}_r${MONITORING_RECIPE_REVISION}"
# Outside the repo, so every clone (and CI's fresh clone) reuses the same binary.
SHIPYARD_CACHE=${SHIPYARD_CACHE:-$HOME/.cache/shipyard}
MONITORING_DIR=$SHIPYARD_CACHE/monitoring/$MONITORING_KEY
MONITORING_BIN=$MONITORING_DIR/bin
PROMTOOL_BIN=$MONITORING_BIN/promtool
