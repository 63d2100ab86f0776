"""The service image's facts as docker/Dockerfile states them, for the tests that lint it and the one that runs
its entry point: the instructions, and the runtime stage's environment and entry point."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")
    ))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.M)]


def runtime_stage() -> list[tuple[str, str]]:
    found = instructions()
    return found[[i for i, (name, _) in enumerate(found) if name == "FROM"][-1]:]


def entrypoint() -> list[str]:
    return json.loads([value for name, value in runtime_stage() if name == "ENTRYPOINT"][-1])


def runtime_env(service: str) -> dict[str, str]:
    """The runtime stage's ENV, ${SERVICE} being the build argument; ${PATH} is left to the caller."""
    env = {}
    for name, value in runtime_stage():
        if name == "ENV":
            for key, raw in re.findall(r"(\w+)=(\S+)", value):
                env[key] = raw.replace("${SERVICE}", service)
    return env
