"""Bad batch configs (YAML) from the corpus: each gives one clear BrandstatsError."""

from __future__ import annotations

from pathlib import Path

import pytest

from brandstats import BrandstatsError
from brandstats.batch import load_batch_config

CONFIGS = Path(__file__).parent / "data" / "bad" / "configs"

# file -> words the message must contain (besides the file's own path)
EXPECTED = {
    "binary.yaml": "not valid YAML",
    "date_value.yaml": "defaults.as_of: datetime.date(2021, 1, 1) is not a plain JSON value",
    "duplicate_run_names.yaml": "both make a run named 'a'",
    "empty.yaml": "expected a mapping",
    "grid_empty_list.yaml": "grid.as_of: expected a non-empty list",
    "grid_not_a_list.yaml": "grid.as_of: expected a non-empty list",
    "name_not_identifier.yaml": "parameter name 'os.system' is not a Python identifier",
    "nan_value.yaml": "defaults.as_of: nan is not a plain JSON value",
    "notebook_not_a_path.yaml": "notebook: expected a path, got 42",
    "python_tag.yaml": "not valid YAML",  # safe_load only: no object is ever built
    "reserved_output_dir.yaml": "defaults.output_dir: reserved",
    "run_name_path.yaml": "'../../etc' is not a safe file name",
    "sets_not_a_list.yaml": "parameter_sets: expected a list",
    "top_level_list.yaml": "expected a mapping",
    "unclosed_bracket.yaml": "not valid YAML",
    "unknown_key.yaml": "unknown key 'grids'",
}


def test_the_corpus_and_the_table_agree():
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_config_gives_one_clear_error(name):
    path = CONFIGS / name
    with pytest.raises(BrandstatsError) as info:
        load_batch_config(path)
    assert str(path) in str(info.value)
    assert EXPECTED[name] in str(info.value)
