"""Resources are found from the source checkout and after a non-editable install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_resources_from_this_environment():
    from piecelab.paths import default_model_path, icon_path, resource_dir, sample_corpus_path

    assert (resource_dir() / "piecelab.desktop").is_file()
    assert icon_path().read_text().lstrip().startswith("<svg")
    assert sample_corpus_path().is_file()
    assert default_model_path().is_file()


def test_source_checkout_fallback(monkeypatch):
    """With no installed ``piecelab.resources`` (PYTHONPATH=app), the repo folder is used."""
    import piecelab.paths as paths

    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(paths._ir, "files", missing)
    paths.resource_dir.cache_clear()
    try:
        assert paths.resource_dir() == REPO / "resources"
    finally:
        paths.resource_dir.cache_clear()


def test_missing_resources_is_a_clear_error(monkeypatch, tmp_path):
    import piecelab.paths as paths

    monkeypatch.setattr(paths._ir, "files", lambda name: tmp_path)
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "a" / "b" / "paths.py"))
    paths.resource_dir.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="resources were not found"):
            paths.resource_dir()
    finally:
        paths.resource_dir.cache_clear()


@pytest.mark.slow
def test_non_editable_install_has_resources(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0 and "setuptools" in build.stderr:
        pytest.skip("setuptools is not available to build the wheel")
    assert build.returncode == 0, build.stderr[-2000:]
    code = (
        "import piecelab.paths as p; r = p.resource_dir(); "
        "print(r); print(p.default_model_path().is_file(), p.sample_corpus_path().is_file())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(target)),
    )
    assert proc.returncode == 0, proc.stderr
    where, flags = proc.stdout.strip().splitlines()
    assert Path(where).is_relative_to(target)
    assert flags == "True True"


def test_bundled_models_load_and_tokenize():
    from piecelab import Tokenizer
    from piecelab.paths import default_model_path, example_models, sample_model_path

    text = "床前明月光，疑是地上霜。It is a truth universally acknowledged."
    sample = Tokenizer(str(sample_model_path()))
    assert 7000 < sample.vocab_size <= 8000
    published = Tokenizer(str(default_model_path()))  # the model the workbench opens
    assert published.vocab_size == 79_812
    for tok in (sample, published):
        pieces = tok.tokenize(text)
        assert b"".join(pieces) == text.encode() and len(pieces) < len(text)
    # a real vocabulary keeps common English words whole
    assert b" truth" in published.tokenize(text) and b" acknowledged" in published.tokenize(text)
    assert [p for _, p in example_models()] == [default_model_path(), sample_model_path()]
    license = default_model_path().with_name("bytepiece.plus.80k.LICENSE.txt")
    assert "Apache License" in license.read_text()
    assert "bojone/bytepiece" in (default_model_path().parent / "README.md").read_text()


@pytest.mark.slow
def test_default_model_is_reproduced_by_its_script(tmp_path):
    out = tmp_path / "m.model"
    proc = subprocess.run(
        [sys.executable, str(REPO / "resources" / "models" / "build_model.py"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (REPO / "resources" / "models" / "sample.model").read_bytes()
