"""The local Ray's folder goes even when Ray's exiting processes still write into it."""

from __future__ import annotations

import importlib
import threading
import time

# the module (piecelab.engine.ray_session is also the name of its function)
ray_session = importlib.import_module("piecelab.engine.ray_session")


def test_a_folder_written_after_its_removal_is_removed_again(tmp_path):
    """What a busy machine does: a log monitor outlives ray.shutdown() and writes again."""
    folder = tmp_path / "plray-test"
    (folder / "logs").mkdir(parents=True)
    stop = threading.Event()

    def late_writer() -> None:
        for _ in range(4):  # recreates the folder after each of the first removals
            time.sleep(0.05)
            (folder / "logs").mkdir(parents=True, exist_ok=True)
            (folder / "logs" / "monitor.log").write_text("still here")
        stop.set()

    writer = threading.Thread(target=late_writer)
    writer.start()
    assert ray_session.remove_when_quiet(str(folder), timeout=10)
    writer.join()
    assert stop.is_set() and not folder.exists()


def test_a_folder_that_never_quiets_is_given_up(tmp_path, monkeypatch):
    folder = tmp_path / "busy"
    folder.mkdir()
    monkeypatch.setattr(ray_session.shutil, "rmtree", lambda *a, **k: None)  # cannot remove
    t = time.monotonic()
    assert not ray_session.remove_when_quiet(str(folder), timeout=0.5)
    assert time.monotonic() - t < 5 and folder.exists()
