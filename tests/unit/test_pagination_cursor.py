"""The opaque cursor of shared/ttct/http/pagination.py: a sort key goes in and comes back with its types; anything a
client makes up is refused as invalid input (422), never passed on to the database."""
from datetime import date, time
from uuid import uuid4

import pytest
from ttct.domain.errors import Invalid
from ttct.http.pagination import decode_cursor, encode_cursor

pytestmark = pytest.mark.unit


def test_a_sort_key_round_trips_with_its_types():
    key = (date(2027, 3, 1), time(7, 30), uuid4(), "Hội trường A", 42)
    cursor = encode_cursor(key)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor, (date, time, type(key[2]), str, int)) == key


@pytest.mark.parametrize("cursor", ["", "not-base64!", encode_cursor(["x"]), encode_cursor([1, 2]),
                                    encode_cursor([2**63]), encode_cursor(["a\x00b"]), "W10", "bnVsbA"])
def test_a_made_up_cursor_is_invalid_input(cursor):
    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor, (int,))
    assert refused.value.code == "invalid-cursor"
