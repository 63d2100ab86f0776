#!/bin/sh
# Builds one service's virtual environment: the image's builder stage runs this, and tests/deploy runs the very
# same script in a temporary copy of the build context, so what the test proves is what the image does.
#
#   docker/install.sh VENV SERVICE      (from the root of the build context: docker/requirements/, shared/, services/)
#
# Every third-party distribution comes from docker/requirements/SERVICE.txt and must match its sha256 there
# (--require-hashes, nothing resolved at build time). The shared package and the service are built from the
# context into wheels by the locked build backend (docker/requirements/build.txt), without build isolation, so
# nothing unlocked is fetched for that either. The venv itself never gets pip or setuptools: the pip of a
# throw-away build venv installs into it from outside (--python).
# PYTHON picks the interpreter that creates the venvs (default: python on PATH, the base image's).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 VENV SERVICE" >&2
    exit 64
fi
venv=$1
service=$2

if [ ! -f "services/$service/pyproject.toml" ] || [ ! -f "docker/requirements/$service.txt" ]; then
    echo "no such service: services/$service/pyproject.toml (SERVICE must be one of: $(ls services | tr '\n' ' '))" >&2
    exit 65
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"${PYTHON:-python}" -m venv "$build/venv"
pip() {
    "$build/venv/bin/pip" --disable-pip-version-check --no-cache-dir "$@"
}
pip install --require-hashes --no-deps -r docker/requirements/build.txt
pip wheel --no-deps --no-build-isolation --wheel-dir "$build/wheels" ./shared "./services/$service"

"${PYTHON:-python}" -m venv --without-pip "$venv"
pip --python "$venv/bin/python" install --require-hashes --no-deps -r "docker/requirements/$service.txt"
pip --python "$venv/bin/python" install --no-deps --no-index "$build"/wheels/*.whl
# Fails the build on a missing or conflicting dependency rather than at the first import in production.
pip --python "$venv/bin/python" check
