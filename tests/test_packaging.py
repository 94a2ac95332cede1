"""Set-up: pyproject.toml and environment.yml list the same dependencies."""

from __future__ import annotations

import re
import sys

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _spec(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement.split(";")[0]).lower()


def test_environment_yml_lists_what_pyproject_lists(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda = {_name(d): _spec(d) for d in conda if _name(d) not in ("python", "pip")}
    assert {_name(r): _spec(r) for r in wanted} == conda
    assert "conda-forge" in env["channels"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_public_api_is_declared():
    import brandstats

    for name in brandstats.__all__:
        assert getattr(brandstats, name) is not None, name


def test_import_is_light():
    import subprocess

    code = (
        "import sys, brandstats; "
        "heavy = [m for m in ('statsmodels', 'matplotlib', 'seaborn', 'papermill', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
