"""SQL statements get spans only when someone can read them: an exporter (or a test's provider) is there and
`asyncpg` is not in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS. Traces stay whole either way; this is their price."""
import pytest
from ttct.operations.telemetry import statement_spans_wanted

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("exporter", "disabled", "provider", "wanted"), [
    (None, None, False, False),               # make run: spans go nowhere
    ("none", None, False, False),
    ("otlp", None, False, True),              # production with a collector
    ("otlp", "fastapi, asyncpg", False, False),
    ("console", "", False, True),
    (None, None, True, True),                 # a test's in-memory provider
])
def test_statement_spans_follow_the_standard_variables(monkeypatch, exporter, disabled, provider, wanted):
    for name, value in (("OTEL_TRACES_EXPORTER", exporter), ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", disabled)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert statement_spans_wanted(provider) is wanted
