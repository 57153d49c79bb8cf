#!/bin/sh
# The shared library's install stage: the pinned harness (HARNESS_PACKAGE, a pip requirement:
# harness==X.Y.Z, a wheel file or a source folder) and the team's requirements
# (HARNESS_REQUIREMENTS) in a virtualenv (HARNESS_VENV). Where pip finds them is the site's
# pip configuration (PIP_INDEX_URL, PIP_FIND_LINKS, pip.conf on the agent). A pinned
# version already installed with the same requirements is kept, so a rebuild starts at once.
set -eu
venv="${HARNESS_VENV:-.harness-venv}"
package="${HARNESS_PACKAGE:?HARNESS_PACKAGE names the harness to install}"
requirements="${HARNESS_REQUIREMENTS:-}"
stamp="$venv/.harness-install"

# What this install is: the requirement, and the digest of every file it reads.
wanted="package=$package"
if [ -f "$package" ]; then
    wanted="$wanted sha256=$(sha256sum "$package" | cut -d' ' -f1)"
fi
if [ -n "$requirements" ]; then
    wanted="$wanted requirements=$(sha256sum "$requirements" | cut -d' ' -f1)"
fi

if [ ! -d "$package" ] && [ -x "$venv/bin/harness" ] && [ -f "$stamp" ] \
        && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "kept $("$venv/bin/harness" --version) in $venv: the requirements are unchanged"
    exit 0
fi
rm -f "$stamp"
"${HARNESS_PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package"
if [ -n "$requirements" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
fi
echo "$wanted" > "$stamp"
echo "installed $("$venv/bin/harness" --version) in $venv"
