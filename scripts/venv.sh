#!/usr/bin/env bash
# Creates or refreshes the repo-root Python venv (.venv) used by tests/blackbox and bench/.
# Idempotent: a stamp holding the hash of the requirements files and the interpreter version
# makes reruns instant; a changed requirements file installs the pins into the existing venv
# (so a venv in use by a running test or benchmark is never deleted under it), a changed
# interpreter rebuilds the venv.
# Needs only python3 (>= 3.10, CI uses 3.11) with the venv module and network access to PyPI.
# Prints the venv's path on stdout (last line); progress goes to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TIDEMARK_VENV:-$root/.venv}"
reqs=("$root/tests/blackbox/requirements.txt" "$root/bench/requirements.txt")
python="${PYTHON:-python3}"

# The stamp covers the requirement files and the exact interpreter, so a python upgrade
# (which breaks a venv's symlinked interpreter) also triggers a rebuild.
want="$(
  {
    cat "${reqs[@]}"
    "$python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
)"
stamp="$venv/.tidemark-stamp"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]] \
  && "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  echo "$venv"
  exit 0
fi

start=$(date +%s)
pyver="$("$python" -c 'import sys; print(sys.version)')"
if [[ -x "$venv/bin/python" ]] \
  && [[ "$("$venv/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null)" == "$pyver" ]]; then
  echo "venv.sh: updating $venv (requirements changed)" >&2
else
  echo "venv.sh: (re)building $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
fi
req_args=()
for r in "${reqs[@]}"; do req_args+=(-r "$r"); done
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${req_args[@]}" >&2
# Fail loudly now rather than in the first test if an entry point did not install.
"$venv/bin/aws" --version >&2
"$venv/bin/python" -c 'import boto3, moto, pytest, requests, matplotlib, orjson' >&2
command -v "$venv/bin/moto_server" >/dev/null
echo "$want" >"$stamp"
echo "venv.sh: ready in $(( $(date +%s) - start ))s" >&2
echo "$venv"
