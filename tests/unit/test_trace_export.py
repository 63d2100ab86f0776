"""Traces go over OTLP/HTTP, the only exporter installed: a service told to use grpc refuses to start, naming the
variable, rather than run and export nothing."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def _start(**env: str) -> subprocess.CompletedProcess:
    settings = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PROVINCE_CODE": "thanh-hoa",
                "AUTH_JWKS_URL": "https://id.invalid/jwks", "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run([sys.executable, "-m", "scheduling"], env={**base, **settings, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"])
def test_a_grpc_protocol_stops_the_service_at_start(variable):
    started = _start(**{variable: "grpc"})
    assert started.returncode != 0
    assert f"{variable}=grpc: only http/protobuf is installed" in started.stderr


def test_http_protobuf_gets_past_tracing_to_the_database():
    """Guards the test above: the same start with http/protobuf fails later, at the unreachable database."""
    started = _start(OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    output = started.stdout + started.stderr  # the service logs to stdout
    assert started.returncode != 0 and "only http/protobuf is installed" not in output
    assert "ConnectionRefusedError" in output
