#!/usr/bin/env bash
# Makes the Python venv with Synapse that the Matrix tests run (tests/common/synapse.rs):
# $SMARTUP_SYNAPSE_VENV, else $HOME/.cache/smartup/synapse-1.163.2. Does nothing when Synapse
# 1.163.2 can already be imported there. Needs python3 >= 3.10 with venv (Debian:
# python3-venv); the install takes 30-60 s and ~240 MB. Prints the venv, for
# `export SMARTUP_SYNAPSE_VENV=...`, on its last line.
set -euo pipefail

version=1.163.2
venv="${SMARTUP_SYNAPSE_VENV:-$HOME/.cache/smartup/synapse-$version}"
started=$SECONDS

installed() {
  [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null)" = "$version" ]
}

if installed; then
  echo "Synapse $version is installed in $venv" >&2
else
  echo "installing Synapse $version into $venv ..." >&2
  mkdir -p "$(dirname "$venv")"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "matrix-synapse==$version"
  installed || { echo "error: Synapse $version still cannot be imported from $venv" >&2; exit 1; }
  echo "installed Synapse $version in $venv in $((SECONDS - started)) s" >&2
fi
echo "$venv"
