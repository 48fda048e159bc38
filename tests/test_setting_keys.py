# runtime_settings keys fit their column by construction, whatever data they are built from.
from __future__ import annotations

import pytest

from storage.setting_keys import DIGEST_LENGTH, NAME_LENGTH, SETTING_KEY_LENGTH, setting_key


@pytest.mark.parametrize("data", ["", "a", "x" * 10_000, "é" * 500, b"\x00" * 3, "ab" * 32])
def test_a_key_from_any_data_fits(data: str | bytes) -> None:
    key = setting_key("skm_impor", data)
    assert key.startswith("skm_impor:")
    assert len(key) == len("skm_impor:") + DIGEST_LENGTH <= SETTING_KEY_LENGTH


def test_the_longest_name_with_data_is_exactly_the_column() -> None:
    assert len(setting_key("n" * NAME_LENGTH, "data")) == SETTING_KEY_LENGTH


def test_same_data_same_key_other_data_other_key() -> None:
    assert setting_key("skm_impor", "abc") == setting_key("skm_impor", "abc")
    assert setting_key("skm_impor", "abc") != setting_key("skm_impor", "abd")
    assert setting_key("trantib_group") == "trantib_group"


@pytest.mark.parametrize("name", ["", "n" * (NAME_LENGTH + 1), "Skm", "skm impor", "skm:impor", "9x"])
def test_a_bad_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        setting_key(name, "data")
