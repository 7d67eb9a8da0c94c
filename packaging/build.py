"""Build piecelab's one-folder bundle with PyInstaller, then check that it runs.

    python packaging/build.py [--clean] [--no-strip] [--check-only] [--verbose]

Builds ``dist/piecelab/`` from ``packaging/piecelab.spec`` (PyInstaller's work
files go to ``build/``), then runs the built executable twice:

* ``dist/piecelab/piecelab --version``
* ``dist/piecelab/piecelab gui --smoke-test`` (with ``QT_QPA_PLATFORM=offscreen``),
  once with an empty numba cache and once more with the cache it left behind.

Exits non-zero with a one-line reason when PyInstaller or either check fails.
``make package`` runs this after installing PyInstaller (``pip install -e '.[package]'``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "piecelab.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build"
BUNDLE = DIST / "piecelab"
EXECUTABLE = BUNDLE / "piecelab"
DEFAULT_MODEL = ROOT / "resources" / "models" / "sample.model"

VERSION_TIMEOUT = 120  # seconds
SMOKE_TIMEOUT = 300  # the first run compiles every numba kernel (about 20 s on 2 cores)


class BuildError(Exception):
    """A failure to report as one line, exiting with status 1."""


def say(message: str) -> None:
    print(f"build.py: {message}", flush=True)


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def tree_size(path: Path) -> int:
    """Bytes in the regular files below path; symlinks are not followed or counted."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                total += os.stat(p).st_size
    return total


def check_prerequisites() -> None:
    try:
        import PyInstaller
    except ImportError:
        raise BuildError(
            f"PyInstaller is not installed for {sys.executable}; "
            "run `make package` or `pip install -e '.[package]'`"
        ) from None
    say(f"PyInstaller {PyInstaller.__version__}, Python {sys.version.split()[0]}")
    if not DEFAULT_MODEL.is_file():
        raise BuildError(
            f"{DEFAULT_MODEL.relative_to(ROOT)} is missing; the bundle's smoke test opens it "
            "(create it with `make model`)"
        )


def run_pyinstaller(clean: bool, strip: bool, verbose: bool) -> float:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK),
        "--log-level",
        "INFO" if verbose else "WARN",
    ]
    if clean:
        cmd.append("--clean")
    cmd.append(str(SPEC))
    say("running PyInstaller (this takes a few minutes) ...")
    env = dict(os.environ, PIECELAB_STRIP="1" if strip else "0")  # read by the spec
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise BuildError(f"PyInstaller failed with exit status {proc.returncode}")
    if not EXECUTABLE.is_file():
        raise BuildError(f"PyInstaller finished but {EXECUTABLE.relative_to(ROOT)} is missing")
    say(f"PyInstaller finished in {elapsed:.1f} s")
    return elapsed


def check_env(cache_home: Path) -> dict[str, str]:
    """The environment of the checks: headless Qt, nothing leaking in from this Python."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "NUMBA_", "QT_"))
        and k not in ("VIRTUAL_ENV", "PIECELAB_SMOKE_TIMEOUT")
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CACHE_HOME"] = str(cache_home)  # so the cold run really starts cold
    return env


def run_check(label: str, args: list[str], env: dict[str, str], cwd: Path, timeout: int):
    say(f"check: {label}")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [str(EXECUTABLE), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"`piecelab {' '.join(args)}` did not finish within {timeout} s") from None
    elapsed = time.monotonic() - start
    out, err = proc.stdout.strip(), proc.stderr.strip()
    for line in out.splitlines():
        print(f"    | {line}")
    if proc.returncode != 0:
        for line in err.splitlines()[-40:]:
            print(f"    ! {line}", file=sys.stderr)
        raise BuildError(
            f"`dist/piecelab/piecelab {' '.join(args)}` failed with exit status {proc.returncode}"
        )
    say(f"    ok in {elapsed:.1f} s")
    return elapsed, out


def report_system_libraries() -> None:
    """Name the libraries Qt's desktop platform plugins will take from the user's system.

    PyInstaller bundles the libraries it finds on the build machine; whatever is
    missing here has to be installed wherever the bundle runs.
    """
    internal = BUNDLE / "_internal"
    plugins = internal / "PySide6" / "Qt" / "plugins" / "platforms"
    ldd = shutil.which("ldd")
    if ldd is None or not plugins.is_dir():
        return
    env = dict(os.environ, LD_LIBRARY_PATH=f"{internal}:{internal / 'PySide6' / 'Qt' / 'lib'}")
    missing: dict[str, set[str]] = {}
    for name in ("libqxcb.so", "libqwayland.so"):
        plugin = plugins / name
        if not plugin.is_file():
            continue
        out = subprocess.run([ldd, str(plugin)], env=env, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "=> not found" in line:
                missing.setdefault(line.split("=>")[0].strip(), set()).add(name)
    if missing:
        say("note: not on the build machine, so not bundled; the user's system must provide:")
        for lib, users in sorted(missing.items()):
            print(f"    {lib:<26} (for {', '.join(sorted(users))})")


def check_bundle() -> dict[str, float]:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="piecelab-check-") as tmp:
        tmpdir = Path(tmp)
        cache_home = tmpdir / "cache"
        env = check_env(cache_home)
        # run from an unrelated folder: the bundle must not depend on the checkout
        timings["--version"], out = run_check(
            "piecelab --version", ["--version"], env, tmpdir, VERSION_TIMEOUT
        )
        if not out.startswith("piecelab "):
            raise BuildError(f"unexpected --version output: {out!r}")
        smoke = ["gui", "--smoke-test"]
        timings["smoke (cold cache)"], _ = run_check(
            "piecelab gui --smoke-test (empty numba cache)", smoke, env, tmpdir, SMOKE_TIMEOUT
        )
        numba_dir = cache_home / "piecelab" / "numba"
        cached = list(numba_dir.glob("*/*/*.nbi")) if numba_dir.is_dir() else []
        if cached:
            where = cached[0].parent.parent.relative_to(cache_home)
            say(f"    numba cache: {len(cached)} index files in $XDG_CACHE_HOME/{where}")
        else:
            say("    WARNING: the smoke test left no numba cache in $XDG_CACHE_HOME/piecelab/numba")
        timings["smoke (warm cache)"], _ = run_check(
            "piecelab gui --smoke-test (warm numba cache)", smoke, env, tmpdir, SMOKE_TIMEOUT
        )
    return timings


def report_size() -> int:
    total = tree_size(BUNDLE)
    say(f"bundle: {BUNDLE.relative_to(ROOT)}/ is {human_size(total)}")
    internal = BUNDLE / "_internal"
    if internal.is_dir():
        parts = []
        for child in internal.iterdir():
            if child.is_symlink():
                continue
            size = tree_size(child) if child.is_dir() else child.stat().st_size
            parts.append((size, child.name))
        parts.sort(reverse=True)
        for size, name in parts[:8]:
            print(f"    {human_size(size):>10}  _internal/{name}")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's caches first")
    parser.add_argument(
        "--no-strip", action="store_true", help="keep symbol tables in the bundled libraries"
    )
    parser.add_argument(
        "--check-only", action="store_true", help="do not build; check the existing dist/piecelab"
    )
    parser.add_argument("--verbose", action="store_true", help="show PyInstaller's INFO log")
    args = parser.parse_args(argv)

    start = time.monotonic()
    try:
        if sys.platform != "linux":
            raise BuildError("this build script makes the Linux bundle; run it on Linux")
        build_time = None
        if args.check_only:
            if not EXECUTABLE.is_file():
                raise BuildError(f"{EXECUTABLE.relative_to(ROOT)} does not exist; build it first")
        else:
            check_prerequisites()
            if args.clean and WORK.exists():
                shutil.rmtree(WORK)
            build_time = run_pyinstaller(args.clean, not args.no_strip, args.verbose)
        size = report_size()
        report_system_libraries()
        timings = check_bundle()
    except BuildError as exc:
        print(f"\nbuild.py: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbuild.py: interrupted", file=sys.stderr)
        return 130

    print()
    say("SUCCESS")
    if build_time is not None:
        print(f"    PyInstaller build   {build_time:7.1f} s")
    for label, seconds in timings.items():
        print(f"    {label:<19} {seconds:7.1f} s")
    print(f"    total               {time.monotonic() - start:7.1f} s")
    print(f"    bundle size         {human_size(size):>9}  ({BUNDLE.relative_to(ROOT)}/)")
    print(f"    run it with         {EXECUTABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
