"""Notebook parameters are checked before anything runs (papermill does not check them)."""

from __future__ import annotations

import pytest

from brandstats import ParameterError, check_parameters

GOOD = {"indicator": "product_brand_value", "as_of": 2021, "levels": [0.5, 0.9]}


def test_good_parameters_give_a_context():
    run = check_parameters(GOOD)
    assert (run.indicator, run.region, run.as_of, run.model) == (
        "product_brand_value", "Jinan", 2021, "auto"
    )  # fmt: skip
    assert run.levels == (0.5, 0.9)
    assert run.run_name == "product_brand_value_Jinan"
    assert run.assess_kwargs()["as_of"] == 2021
    assert check_parameters({**GOOD, "as_of": 0}).as_of is None  # 0 means all data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"indicator": "product_brand_valu"}, "did you mean 'product_brand_value'"),
        ({"indicator": "unicorn_firms"}, "expected an indicator with a target"),
        ({"as_of": "2021"}, "as_of='2021' (str): expected a year"),
        ({"as_of": 2021.0}, "as_of=2021.0 (float): expected a year"),
        ({"as_of": True}, "as_of=True (bool)"),
        ({"as_of": 3000}, "between 1949 and 2100"),
        ({"base_year": 1900}, "base_year=1900: expected a year"),
        ({"model": "prophet"}, "model='prophet'"),
        ({"levels": [0.5, 1.0]}, "levels=[0.5, 1.0]"),
        ({"levels": []}, "levels=[]"),
        ({"levels": "0.9"}, "levels='0.9' (str)"),
        ({"language": "fr"}, "language='fr'"),
        ({"run_name": "../escape"}, "run_name='../escape'"),
        ({"region": "Qingdao"}, "region='Qingdao': no observations"),
        ({"indicatr": "x"}, "unknown parameter 'indicatr' (did you mean 'indicator'?)"),
    ],
)
def test_bad_parameters_are_named_with_what_was_expected(change, message):
    with pytest.raises(ParameterError) as info:
        check_parameters({**GOOD, **change})
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
