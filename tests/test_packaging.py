"""Set-up: the dependency lists agree (pyproject, uv.lock, environment.yml, Makefile), the public
API resolves, and a built wheel works outside the source tree."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

import brandstats

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _spec(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement.split(";")[0]).lower()


def _project(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _lock(root: Path) -> dict:
    return tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))


def test_environment_yml_lists_what_pyproject_lists(root):
    project = _project(root)
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda = {_name(d): _spec(d) for d in conda if _name(d) not in ("python", "pip")}
    assert {_name(r): _spec(r) for r in wanted} == conda
    python = next(d for d in env["dependencies"] if isinstance(d, str) and _name(d) == "python")
    assert _spec(python) == "python" + project["requires-python"]
    assert "conda-forge" in env["channels"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_uv_lock_is_in_step_with_pyproject(root):
    """`uv sync --locked` refuses a stale lock; this says so without a network, and which line."""
    project = _project(root)
    wanted = {(_name(r), _spec(r).removeprefix(_name(r)), None) for r in project["dependencies"]}
    wanted |= {
        (_name(r), _spec(r).removeprefix(_name(r)), extra)
        for extra, requirements in project["optional-dependencies"].items()
        for r in requirements
    }
    lock = _lock(root)
    (own,) = [p for p in lock["package"] if p["name"] == project["name"]]
    locked = set()
    for r in own["metadata"]["requires-dist"]:
        extra = re.fullmatch(r"extra == '(\w+)'", r.get("marker", "extra == 'None'")).group(1)
        locked.add((r["name"], r.get("specifier", ""), None if extra == "None" else extra))
    assert locked == wanted, "pyproject.toml changed: run `make lock` and commit uv.lock"
    assert lock["requires-python"] == project["requires-python"]


def test_uv_lock_takes_everything_from_pypi(root):
    """A fresh clone installs with PyPI as its only source (no local paths or other indexes)."""
    project = _project(root)["name"]
    sources = {p["name"]: p["source"] for p in _lock(root)["package"] if p["name"] != project}
    assert len(sources) > 50
    elsewhere = {n: s for n, s in sources.items() if s != {"registry": "https://pypi.org/simple"}}
    assert elsewhere == {}


def test_makefile_bootstraps_the_locked_uv(root):
    makefile = (root / "Makefile").read_text()
    (bootstrap,) = re.findall(r"^UV_VERSION := (\S+)$", makefile, flags=re.MULTILINE)
    locked = [p["version"] for p in _lock(root)["package"] if p["name"] == "uv"]
    assert locked == [bootstrap]
    assert "sync --locked" in makefile


@pytest.mark.parametrize("name", brandstats.__all__)
def test_public_name_comes_from_its_module(name):
    """Each public name is the object its module exports under that name, documented."""
    module_name = brandstats._EXPORTS[name]
    obj = getattr(brandstats, name)
    if module_name:
        module = importlib.import_module(f"brandstats.{module_name}")
        assert name in module.__all__
        assert obj is getattr(module, name)
    else:
        assert obj is importlib.import_module(f"brandstats.{name}")
    assert name in dir(brandstats)
    if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj):
        assert inspect.getdoc(obj), f"{name} has no docstring"


def test_unknown_public_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'load_target'"):
        brandstats.load_target  # noqa: B018


def test_import_is_light():
    code = (
        "import sys, brandstats; "
        "heavy = [m for m in ('statsmodels', 'matplotlib', 'seaborn', 'papermill', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- a built wheel, installed outside the source tree ---------------------------------------


def _uv() -> str:
    uv = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")]))  # fmt: skip
    assert uv, "uv is a dev dependency (pyproject.toml): `make install` installs it"
    return uv


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel uv builds from the sdist of this tree (as `pip install .` would, via hatchling)."""
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [_uv(), "build", "--quiet", "--python", sys.executable, "--out-dir", str(out), str(root)],
        check=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("brandstats-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel (not editable); its dependencies: this venv's, by a .pth."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # A .pth line adds a folder to sys.path without running the .pth files inside it, so the dev
    # venv's editable hook (pointing at src/) stays off: brandstats can only come from the wheel.
    Path(purelib, "_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert's templates are data files of its install (share/jupyter), not importable.
    (venv / "share" / "jupyter").mkdir(parents=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(
        Path(sys.prefix, "share/jupyter/nbconvert")
    )
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)],
        check=True, timeout=120,
    )  # fmt: skip
    return venv


def _brandstats(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv / "bin" / "brandstats", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip


@pytest.mark.slow
def test_wheel_carries_the_data_and_notebooks(wheel, root):
    with zipfile.ZipFile(wheel) as whl:
        shipped = {
            name: whl.read(name)
            for name in whl.namelist()
            if re.fullmatch(r"brandstats/(data/[^/]+\.csv|notebooks/[^/]+\.ipynb)", name)
        }
    expected = [*sorted(root.glob("data/*.csv")), *sorted(root.glob("notebooks/*.ipynb"))]
    assert len(expected) >= 4
    assert shipped == {f"brandstats/{p.relative_to(root)}": p.read_bytes() for p in expected}


@pytest.mark.slow
def test_installed_wheel_finds_its_own_data(installed, tmp_path, root):
    where = subprocess.run(
        [installed / "bin" / "python", "-c",
         "import brandstats.config as c; print(c.DATA_DIR); print(c.NOTEBOOKS_DIR)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert [Path(p) for p in where] == [
        Path(sysconfig.get_paths(vars={"base": str(installed)})["purelib"], "brandstats", sub)
        for sub in ("data", "notebooks")
    ]

    done = _brandstats(installed, "targets", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = list(csv.DictReader(io.StringIO(done.stdout)))
    with (root / "data" / "targets.csv").open(encoding="utf-8") as f:
        shipped = [row for row in csv.DictReader(f) if not row["indicator"].startswith("#")]
    assert [r["indicator"] for r in listed] == [r["indicator"] for r in shipped]
    assert list(tmp_path.iterdir()) == []  # nothing written into the user's folder


def test_notebooks_command_copies_and_never_overwrites(tmp_path, root, capsys, monkeypatch):
    from brandstats.cli import main

    monkeypatch.chdir(tmp_path)
    shipped = sorted(root.glob("notebooks/*.ipynb"))
    assert len(shipped) >= 2
    (tmp_path / "mine").mkdir()
    edited = tmp_path / "mine" / shipped[0].name
    edited.write_text("my own work")
    assert main(["notebooks", "mine"]) == 0
    assert edited.read_text() == "my own work"
    assert f"kept {Path('mine', shipped[0].name)}" in capsys.readouterr().err
    assert [p.read_bytes() for p in sorted((tmp_path / "mine").iterdir())[1:]] == [
        p.read_bytes() for p in shipped[1:]
    ]

    (tmp_path / "a_file").write_text("")
    assert main(["notebooks", "a_file"]) == 1
    assert capsys.readouterr().err.startswith("error: a_file is a file")
    assert (tmp_path / "a_file").read_text() == ""


@pytest.mark.slow
def test_installed_notebooks_command_copies_the_shipped_notebooks(installed, tmp_path, root):
    done = _brandstats(installed, "notebooks", "new/folder", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shipped = sorted(root.glob("notebooks/*.ipynb"))
    copied = sorted((tmp_path / "new" / "folder").iterdir())
    assert [p.name for p in copied] == [p.name for p in shipped]
    assert [p.read_bytes() for p in copied] == [p.read_bytes() for p in shipped]


@pytest.mark.slow
def test_installed_run_writes_reports_under_the_current_folder(installed, tmp_path, root):
    """`brandstats run` from an empty folder: the shipped notebooks on the shipped data."""
    indicator = "product_brand_count"
    done = _brandstats(installed, "run", "--indicator", indicator, cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    (output,) = (tmp_path / "reports").iterdir()
    result = json.loads((output / f"{indicator}_Jinan.json").read_text(encoding="utf-8"))
    with (root / "data" / "observations.csv").open(encoding="utf-8") as f:
        rows = [
            r for r in csv.DictReader(f) if (r["indicator"], r["region"]) == (indicator, "Jinan")
        ]
    last = max(rows, key=lambda r: int(r["year"]))
    assert (result["last_year"], result["last_value"]) == (int(last["year"]), float(last["value"]))
    with (output / "scorecard.csv").open(encoding="utf-8-sig") as f:
        assert [r["indicator"] for r in csv.DictReader(f)] == [indicator]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
