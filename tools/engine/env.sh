# shellcheck shell=bash source-path=SCRIPTDIR
# source tools/engine/env.sh: use the Pulumi engine that tools/engine/build.sh built.
#
# Puts its bin dir first on PATH: the CLI finds pulumi-language-python (and its
# pulumi-language-python-exec shim) beside itself, and the providers as "ambient" plugins,
# i.e. any pulumi-resource-<name> on PATH is used for package <name> (the engine would warn
# if the SDKs in requirements.txt asked for newer ones; they are pinned to these versions).
# That needs no `pulumi plugin install`, no plugin cache and no PULUMI_HOME of its own.
# `pulumi plugin ls` lists only the plugin cache, so it shows none of them; inside a project
# `pulumi plugin ls --project` lists them, and preview/up print
# "using pulumi-resource-<name> from $PATH at ..." with the version they found.
_shipyard_engine_bin=$(source "$(dirname "${BASH_SOURCE[0]}")/versions.sh" && echo "$ENGINE_BIN")
if [[ -x $_shipyard_engine_bin/pulumi ]]; then
  case ":$PATH:" in
    *":$_shipyard_engine_bin:"*) ;;
    *) export PATH="$_shipyard_engine_bin:$PATH" ;;
  esac
else
  echo "tools/engine/env.sh: no engine in $_shipyard_engine_bin: run tools/engine/build.sh (keeping the PATH's own pulumi, if any)" >&2
fi
unset _shipyard_engine_bin
# PATH plugins are skipped when this is true, and then nothing would be found offline.
unset PULUMI_IGNORE_AMBIENT_PLUGINS
# No internet: never try to download a plugin (it would fail slowly and hide the real
# error), nor ask get.pulumi.com for a newer CLI.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
