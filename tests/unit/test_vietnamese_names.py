"""Vietnamese name order: given name first, Vietnamese letters in their own places, tones only for ties."""
import pytest

from ttct.domain.names import name_sort_key

pytestmark = pytest.mark.unit


def ordered(names):
    return sorted(names, key=name_sort_key)


def test_by_given_name_then_middle_then_family():
    assert ordered(["Nguyễn Văn Bình", "Trần Thị An", "Lê Văn An"]) == ["Trần Thị An", "Lê Văn An", "Nguyễn Văn Bình"]


def test_vietnamese_letters_follow_their_base_letter():
    assert ordered(["Phạm Đức", "Phạm Dũng", "Phạm Ân", "Phạm Anh", "Phạm Ơn", "Phạm Oanh", "Phạm Ôn"]) == [
        "Phạm Anh", "Phạm Ân", "Phạm Dũng", "Phạm Đức", "Phạm Oanh", "Phạm Ôn", "Phạm Ơn"]


def test_tones_decide_only_between_otherwise_equal_names():
    assert ordered(["Lê Thị Hà", "Lê Thị Hạ", "Lê Thị Ha", "Lê Thị Hả", "Lê Thị Hải"]) == [
        "Lê Thị Ha", "Lê Thị Hà", "Lê Thị Hả", "Lê Thị Hạ", "Lê Thị Hải"]


def test_decomposed_and_precomposed_input_sort_alike():
    import unicodedata
    name = "Nguyễn Thị Ánh"
    assert name_sort_key(unicodedata.normalize("NFD", name))[:2] == name_sort_key(name)[:2]

