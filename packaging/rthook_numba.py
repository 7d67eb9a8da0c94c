"""PyInstaller runtime hook: point numba's on-disk cache at a writable per-user folder.

piecelab compiles its kernels with ``@njit(cache=True)``. Inside the bundle the
code sits in ``<bundle>/_internal``, which may be read-only (a system-wide
install) and is replaced on every upgrade, so the compiled machine code is kept
under ``$XDG_CACHE_HOME/piecelab/numba/<fingerprint>`` (``~/.cache/...`` by
default) instead. If no such folder can be created, a per-user folder in the
system temporary directory is used. A ``NUMBA_CACHE_DIR`` set by the user is left
alone.

Why the fingerprint (a hash of piecelab's .py files in the bundle): in a frozen
program numba stamps cache entries with the executable, not with the source file,
and the executable does not contain piecelab's code (the spec ships it as source
files). Numba does notice when a function's own bytecode changes, but not when a
function it calls does, so without the fingerprint an upgraded bundle could run
machine code compiled from the previous version's kernels.

This runs before any of the application's modules, so before numba reads its
configuration from the environment.
"""


def _piecelab_set_numba_cache_dir():
    import hashlib
    import os
    import sys

    if os.environ.get("NUMBA_CACHE_DIR"):
        return

    def fingerprint():
        root = os.path.join(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)), "piecelab")
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("resources", "__pycache__"))
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    digest.update(os.path.relpath(path, root).encode("utf-8", "surrogateescape"))
                    with open(path, "rb") as f:
                        digest.update(b"\0" + f.read() + b"\0")
        return digest.hexdigest()[:16]

    def usable(path):
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError:
            return False
        return os.access(path, os.W_OK | os.X_OK)

    try:
        build = fingerprint()
    except OSError:
        build = "unknown"
    candidates = []
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec says to ignore relative paths
        candidates.append(os.path.join(xdg, "piecelab", "numba", build))
    home = os.path.expanduser("~")
    if os.path.isabs(home):
        candidates.append(os.path.join(home, ".cache", "piecelab", "numba", build))
    for path in candidates:
        if usable(path):
            os.environ["NUMBA_CACHE_DIR"] = path
            return
    import tempfile  # only now: it is slow to import

    user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    path = os.path.join(tempfile.gettempdir(), f"piecelab-{user}", "numba", build)
    if usable(path):
        os.environ["NUMBA_CACHE_DIR"] = path
    # else nothing is writable: leave numba to its own fall-backs


_piecelab_set_numba_cache_dir()
del _piecelab_set_numba_cache_dir
