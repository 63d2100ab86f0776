#!/bin/sh
# Builds one service's virtual environment: the image's builder stage runs this, and tests/deploy runs the very
# same script in a temporary copy of the build context, so what the test proves is what the image does.
#
#   docker/install.sh VENV SERVICE      (from the root of the build context: constraints.txt, shared/, services/)
#
# PYTHON picks the interpreter that creates the venv (default: python on PATH, the base image's).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 VENV SERVICE" >&2
    exit 64
fi
venv=$1
service=$2

if [ ! -f "services/$service/pyproject.toml" ]; then
    echo "no such service: services/$service/pyproject.toml (SERVICE must be one of: $(ls services | tr '\n' ' '))" >&2
    exit 65
fi

"${PYTHON:-python}" -m venv "$venv"
# Every version comes from constraints.txt, the same pins as development and CI; the shared package and the
# service are installed from the context, never from an index.
"$venv/bin/pip" install --no-cache-dir --disable-pip-version-check -c constraints.txt ./shared "./services/$service"
# Fails the build on a broken or conflicting dependency set rather than at the first import in production.
"$venv/bin/pip" check
