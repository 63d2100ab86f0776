"""`make profile` folds py-spy's raw stacks into shares per layer and per function: the figures the performance
note rests on must add up and name the right layer."""
import pytest
from ttct_dev.bench.profile import fold

pytestmark = pytest.mark.unit


def test_samples_are_split_by_the_innermost_known_layer_and_own_function(tmp_path):
    raw = tmp_path / "enrolment.folded"
    raw.write_text(
        "process 1;thread 2;serve (/w/shared/ttct/operations/runtime.py:169);enrol (/w/services/enrolment/enrolment/h.py:40);"
        "Connection._do_execute (/v/lib/python3.11/site-packages/asyncpg/connection.py:1800) 6\n"
        "serve (/w/shared/ttct/operations/runtime.py:169);"
        "_do_execute (/v/lib/python3.11/site-packages/opentelemetry/instrumentation/asyncpg/__init__.py:239) 3\n"
        "serve (/w/shared/ttct/operations/runtime.py:169);decide (/w/services/enrolment/enrolment/domain/roster.py:170) 1\n")
    folded = fold(raw)
    assert folded["samples"] == 10
    assert dict(folded["buckets"]) == {"asyncpg (PostgreSQL driver)": 6,
                                       "OpenTelemetry (tracing, instrumentation)": 3,
                                       "the service's own code": 1}
    assert folded["own"][0] == ("Connection._do_execute (asyncpg/connection.py)", 6)
    assert dict(folded["code"])["enrol (enrolment/enrolment/h.py)"] == 6
