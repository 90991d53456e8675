"""Installable anywhere: the wheel, installed into a fresh virtual environment, runs from a folder
outside the repository with everything it needs (compiled catalogs, tariff and journal catalogs,
migrations). The repository cannot shadow the installed copy: nothing here runs with its path.

Slow-ish (a wheel build and a venv install, ~30 s on a warm pip cache); skipped with the reason
when the build requirements or the dependencies cannot be fetched at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
# What a build needs, as the Dockerfile copies it: the build must not depend on anything else.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "locales", "bot", "core", "web", "shopdesk")
UNREACHABLE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Failed to establish a new connection",
    "Network is unreachable",
    "Temporary failure in name resolution",
)


def _env(**extra: str) -> dict[str, str]:
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DATABASE_URL", "BOT_TOKEN", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def _run(
    args: list[str], *, cwd: Path, timeout: float = 300, **kwargs
) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)


def _or_skip(done: subprocess.CompletedProcess, what: str) -> None:
    """A failure to fetch packages skips (the machine is offline); any other failure fails."""
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(sign in output for sign in UNREACHABLE):
        pytest.skip(f"{what}: packages cannot be fetched here:\n{output[-2000:]}")
    assert done.returncode == 0, f"{what} failed:\n{output[-4000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    done = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(src)],
        cwd=dist,
        env=_env(),
    )
    _or_skip(done, "building the wheel")
    (built,) = dist.glob("shopdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", "--clear", str(venv)], cwd=venv, env=_env())
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {made.stderr[-2000:]}")
    python = venv / "bin" / "python"
    _or_skip(
        _run([str(python), "-m", "pip", "install", str(wheel)], cwd=venv, env=_env()),
        "installing the wheel",
    )
    return python


@pytest.fixture
def run_bot(venv_python, tmp_path):
    """`python -m bot …` in the fresh venv, from an empty folder outside the repository."""
    here = tmp_path / "elsewhere"
    here.mkdir()
    env = _env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shopdesk.db'}")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return _run(
            [str(venv_python), "-m", "bot", *args], cwd=here, env=env, input=stdin, timeout=120
        )

    return run


def test_the_wheel_carries_catalogs_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "bot/locales/ru/LC_MESSAGES/messages.mo",
        "bot/locales/en/LC_MESSAGES/messages.mo",
        "core/tariff/tariffs.toml",
        "core/journal/catalog.toml",
        "core/db/migrations/env.py",
        "core/db/migrations/script.py.mako",
        "web/app/static/index.html",
        "web/app/static/app.js",
        "web/app/static/app.css",
    ):
        assert needed in names, needed
    assert any(n.startswith("core/db/migrations/versions/0001_") for n in names)
    assert not [n for n in names if n.startswith("locales/")], "a top-level locales/ package"


def test_the_installed_copy_is_the_one_that_runs(venv_python, tmp_path):
    done = _run(
        [str(venv_python), "-c", "import bot.i18n as i; print(i.__file__); print(i.LOCALES_DIR)"],
        cwd=tmp_path,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    module, locales = done.stdout.splitlines()
    venv = venv_python.parent.parent
    assert Path(module).is_relative_to(venv) and Path(locales).is_relative_to(venv)
    assert not Path(module).is_relative_to(ROOT)


def test_help_demo_and_console_run_from_another_folder(run_bot):
    helped = run_bot("--help")
    assert helped.returncode == 0, helped.stderr
    assert "console" in helped.stdout and "demo" in helped.stdout

    demo = run_bot("demo")
    assert demo.returncode == 0, demo.stderr
    assert "Demo account" in demo.stdout and "created" in demo.stdout

    chat = run_bot("console", stdin="/help\n/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "FileNotFoundError" not in chat.stderr
    replies = [line for line in chat.stdout.splitlines() if line.startswith("bot › ")]
    assert replies, chat.stdout
    # The default locale is Russian: the owner's /help answer comes from the compiled catalog.
    assert "владелец" in chat.stdout, chat.stdout


def _dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (instruction, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_the_dockerfile_builds_the_wheel_from_what_the_build_needs():
    """No Docker engine here: the image's rules are checked by reading the Dockerfile."""
    build, runtime = _dockerfile_stages()
    copied = [arg.split()[:-1] for op, arg in build if op == "COPY"]
    assert sorted(src.rstrip("/") for srcs in copied for src in srcs) == sorted(SOURCES)
    assert any(op == "RUN" and "pip wheel --no-deps" in arg for op, arg in build)
    # Runtime: the dependencies' layer comes before the code, which is the wheel alone.
    ops = [f"{op} {arg}" for op, arg in runtime]
    deps = next(i for i, line in enumerate(ops) if "pip install -r" in line)
    code = next(i for i, line in enumerate(ops) if line.startswith("COPY --from="))
    assert deps < code
    assert [line for line in ops[:deps] if line.startswith("COPY")] == [
        "COPY pyproject.toml /tmp/pyproject.toml"
    ]
    assert not [line for line in ops if line.startswith("COPY") and "--from=" not in line][1:]
    # It runs as a user of its own, who owns its working directory and not the code.
    users = [arg for op, arg in runtime if op == "USER"]
    assert users == ["shopdesk"]
    assert [arg for op, arg in runtime if op == "WORKDIR"] == ["/var/lib/shopdesk"]
    assert not [line for line in ops if "chown" in line or "chmod" in line]
    (healthcheck,) = [arg for op, arg in runtime if op == "HEALTHCHECK"]
    assert "/livez" in healthcheck  # a restart probe: not the database's health
    assert ops.index("USER shopdesk") < next(i for i, x in enumerate(ops) if x.startswith("CMD"))
