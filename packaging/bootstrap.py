"""Checks run by the Makefile before and after installing: clear advice, not tracebacks.

``venv DIR`` creates the virtual environment (naming the Debian package when the
``venv`` module or ``ensurepip`` is missing); ``qt`` imports Qt's widgets and names
the Debian package of any missing system library.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# shared libraries Qt needs that a minimal Debian may lack → the package with them
DEBIAN_PACKAGES = {
    "libGL.so": "libgl1",
    "libEGL.so": "libegl1",
    "libOpenGL.so": "libopengl0",
    "libxkbcommon.so": "libxkbcommon0",
    "libxkbcommon-x11.so": "libxkbcommon-x11-0",
    "libfontconfig.so": "libfontconfig1",
    "libfreetype.so": "libfreetype6",
    "libdbus-1.so": "libdbus-1-3",
    "libglib-2.0.so": "libglib2.0-0",
    "libgthread-2.0.so": "libglib2.0-0",
    "libX11.so": "libx11-6",
    "libX11-xcb.so": "libx11-xcb1",
    "libxcb-cursor.so": "libxcb-cursor0",
    "libICE.so": "libice6",
    "libSM.so": "libsm6",
}


def fail(message: str) -> None:
    print(f"\n*** {message}\n", file=sys.stderr)
    sys.exit(1)


def make_venv(target: str) -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - run by the system python, maybe older
        fail(f"piecelab needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if (Path(target) / "bin" / "python").exists():
        return
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        ver = f"{sys.version_info.major}.{sys.version_info.minor}"
        fail(
            "Python's venv module is missing. Install it with:\n"
            f"    sudo apt-get install python3-venv   (or python{ver}-venv)"
        )
    subprocess.run([sys.executable, "-m", "venv", target], check=True)


def check_qt() -> None:
    code = "from PySide6 import QtGui, QtWidgets, QtSvg"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode == 0:
        return
    missing = re.findall(r"(lib[\w.+-]+\.so)[\w.]*: cannot open shared object", proc.stderr)
    if missing:
        pkgs = sorted({DEBIAN_PACKAGES.get(m, "?") for m in missing})
        fail(
            f"Qt cannot load {', '.join(missing)}. Install the Debian package(s):\n"
            f"    sudo apt-get install {' '.join(p for p in pkgs if p != '?')}"
        )
    fail("Qt does not import:\n" + proc.stderr.strip()[-2000:])


if __name__ == "__main__":
    if sys.argv[1:2] == ["venv"]:
        make_venv(sys.argv[2])
    elif sys.argv[1:2] == ["qt"]:
        check_qt()
    else:
        fail("usage: bootstrap.py venv DIR | qt")
