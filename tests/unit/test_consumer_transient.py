"""Which failures the consumer retries for ever without counting them (never a dead letter)."""
import asyncpg
import pytest
from ttct.eventsourcing.consumer import PermanentError, TransientError, is_transient

pytestmark = pytest.mark.unit


def _wrapped(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("the handler could not open the learner's name") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.TooManyConnectionsError("too many clients already"),
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError('database "ttct" is not currently accepting connections'),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError(),
    TransientError("the key vault is busy"),
])
def test_the_database_or_vault_away_is_transient_even_wrapped_by_a_handler(error):
    assert is_transient(error) and is_transient(_wrapped(error))


@pytest.mark.parametrize("error", [
    ValueError("bad payload"), KeyError("class_id"), PermanentError("breaks an invariant"),
    asyncpg.exceptions.UniqueViolationError("duplicate key"),
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError("cannot do that in this state"),
])
def test_a_bug_or_bad_data_is_not_transient(error):
    assert not is_transient(error)
