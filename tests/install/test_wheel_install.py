"""A wheel install works anywhere: built from this tree, installed in a fresh venv, run from an empty folder.

The wheel must carry the device profiles and the screen library and find
them through the package: a run from an empty folder has nothing else to
find them by. The fresh venv takes the wheel itself from the build and its
dependencies from the environment running this test (a path entry placed
after its own site-packages), so the test stays offline and fast while the
package under test is only the installed wheel.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _clean_env() -> dict[str, str]:
    """The environment without anything that points back at this checkout or this venv."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTEST_ADDOPTS")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_XDIST")}


def _has_build() -> bool:
    try:
        importlib.metadata.version("build")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _build_wheel(out: Path) -> Path:
    """Build from a copy of the tree, so no build/ or egg-info is left in the checkout and none stale is used."""
    src = out / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "artifacts", "results"))
    if _has_build():
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)]
    _run(cmd, out, _clean_env(), 300)
    wheels = list(out.glob("handset_harness-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the built wheel; returns its bin/ folder."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(base)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
         base, _clean_env(), 300)
    own = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    base, _clean_env(), 60).stdout.strip())
    # Dependencies (numpy, OpenCV, Pillow, ...) from the environment running this test, after the venv's own packages.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (own / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return env_dir / "bin"


def test_wheel_carries_profiles_and_screens_and_runs_the_demo_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = _clean_env()
    where = _run([str(installed / "python"), "-c", "import harness, harness.profiles as p, harness.vision as v;"
                  "print(harness.__file__); print(p.PROFILES_DIR); print(v.DEFAULT_LIBRARY)"], empty, env, 60).stdout.split()
    venv_dir = installed.parent.resolve()
    for path in where:
        assert Path(path).resolve().is_relative_to(venv_dir), f"{path} is not inside the fresh venv {venv_dir}"

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _run([str(installed / "harness"), "--version"], empty, env, 60).stdout.strip() == f"harness {version}"

    demo = _run([str(installed / "harness"), "demo"], empty, env, 180)
    assert "signed in as alice@outlook.com" in demo.stdout, demo.stdout
    runs = list((empty / "artifacts").glob("demo-*"))
    assert len(runs) == 1, runs
    shots = sorted(runs[0].glob("*.png"))
    assert len(shots) >= 5, shots

    # The screen library is found too: the first screen of setup, the start screen once signed in.
    match = _run([str(installed / "harness"), "match", "--json", str(shots[0]), str(shots[-1])], empty, env, 120)
    screens = [json.loads(line)["screen"] for line in match.stdout.splitlines() if line.strip()]
    assert screens == ["setup_welcome", "start"], match.stdout


PLUGIN_TEST = '''
from pathlib import Path

import harness.pytest_plugin.fixtures


def test_the_installed_plugin_gives_its_fixtures(accounts, artifacts, pytestconfig):
    assert accounts["primary"].address == "alice@outlook.com"
    assert artifacts.dir.is_dir() and pytestconfig.getoption("handset") is None
    print("PLUGIN", Path(harness.pytest_plugin.fixtures.__file__).resolve())
'''


def test_wheel_registers_the_pytest_plugin(installed: Path, tmp_path: Path) -> None:
    """pytest in the fresh venv finds the plugin through the wheel's pytest11 entry point: options and fixtures."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "test_plugin.py").write_text(PLUGIN_TEST)
    env = _clean_env()
    python = str(installed / "python")
    options = _run([python, "-m", "pytest", "--help"], empty, env, 120).stdout
    assert "handset-harness:" in options and "--handset=URI" in options and "--inventory=FILE" in options, options
    run = _run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "test_plugin.py"], empty, env, 120)
    assert "1 passed" in run.stdout, run.stdout
    plugin = Path(run.stdout.split("PLUGIN ", 1)[1].split()[0])
    assert plugin.is_relative_to(installed.parent.resolve()), f"{plugin} is not the fresh venv's plugin"
    assert (empty / "artifacts").is_dir()
