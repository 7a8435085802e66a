"""The bundled campaign ships inside the wheel: render from any folder."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import REPO


@pytest.mark.slow
def test_installed_wheel_renders_the_bundled_campaign(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("advocacy-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # the print set's sheets' words, per language
        assert "advocacy/assets/printset-words.toml" in archive.namelist()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # Reuse this environment's dependencies, but not its (editable) advocacy.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "anywhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(env_dir / "bin" / "advocacy"), "render", "--to", "us-dos", "--to", "fr"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    where = subprocess.run(
        [str(python), "-c", "import advocacy; print(advocacy.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(REPO / "src") not in where  # really the installed wheel
    assert sorted(p.name for p in (elsewhere / "letters").iterdir()) == [
        "fr-mfa.fr.pdf",
        "manifest.json",
        "us-dos.en.pdf",
    ]
