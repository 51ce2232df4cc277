"""The users' worlds, for tests that run the README's commands as a newcomer would type them.

- a clean clone: the files git would give (tracked, plus new files not ignored), nothing built or graded;
- a fresh HOME, and an environment without the suite's COURSE_* variables;
- "the internet": a local HTTP server on 127.0.0.1 serving ../shared/data, while every other address is
  unreachable (a proxy on a closed port), so no test downloads from the real mirrors even where it could;
- an unprivileged account, created when the suite runs as root.
"""

import contextlib
import functools
import http.server
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from checkout import ROOT

SHARED_DATA = ROOT.parent / "shared" / "data"
VENV = Path(sys.prefix)  # the virtual environment the suite runs in: the clone's `.venv` points at it
UNPRIVILEGED = "dlfs-instructor"


README = ROOT / "README.md"


def readme_block(heading):
    """The command lines (comments and blank lines dropped) of the first ```bash block under a README heading."""
    text = README.read_text()
    section = text[text.index(heading):]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def clean_clone(dest, venv=True):
    """Copy what a fresh `git clone` of this checkout (with its uncommitted work) would hold into dest; with venv,
    link the suite's virtual environment as dest/.venv, as the README's set-up would have made it."""
    dest = Path(dest)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    if venv:
        (dest / ".venv").symlink_to(VENV)
    return dest


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_env(home, **extra):
    """A newcomer's environment: a fresh HOME, none of the suite's COURSE_* or NBGRADER_* variables, and no
    network but 127.0.0.1 (urllib and pip go through a proxy that refuses every connection)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSE_", "NBGRADER_", "VIRTUAL_ENV", "PYTEST_", "JPY_", "MPLBACKEND"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(VENV)))
    dead = f"http://127.0.0.1:{closed_port()}"
    env.update(HOME=str(home), http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead,
               no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    Path(home).mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


def run_as_typed(command, cwd, env, timeout=1800, user=None):
    """Run one README command line with bash, as typed, in cwd; returns the CompletedProcess (text output)."""
    kw = {}
    if user is not None:
        kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False, **kw)


@contextlib.contextmanager
def serve(folder):
    """Serve folder over HTTP on 127.0.0.1; yield (base URL, list of requested paths)."""
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # called once per request; keeps stderr quiet
            requested.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def unprivileged_user():
    """(passwd entry, None) of an unprivileged account to run commands as, or (None, why not).

    As root, the account dlfs-instructor is created (useradd) if missing; as any other user, that user is
    already unprivileged and is returned."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()), None
    try:
        return pwd.getpwnam(UNPRIVILEGED), None
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        return None, "running as root and useradd is missing: cannot create an unprivileged account"
    proc = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/bash", UNPRIVILEGED],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None, f"running as root and useradd failed: {proc.stderr.strip()}"
    return pwd.getpwnam(UNPRIVILEGED), None


def can_reach(user, *paths):
    """True if `user` can read (and list) every path: the suite's venv and data must be reachable by that user."""
    for path in paths:
        proc = subprocess.run(["test", "-r", str(path), "-a", "-x", str(path)], user=user.pw_uid, group=user.pw_gid,
                              extra_groups=[], check=False)
        if proc.returncode != 0:
            return False
    return True


def give_to(user, *paths):
    """chown paths (recursively) to user: a clone and a HOME that the unprivileged account owns."""
    for path in paths:
        subprocess.run(["chown", "-R", "--no-dereference", f"{user.pw_uid}:{user.pw_gid}", str(path)], check=True)


def pip_cache():
    """The folder pip caches wheels in for the suite's own user (before any fresh HOME)."""
    return subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True,
                          check=True).stdout.strip()


def scratch(prefix):
    """A scratch folder every account can enter (pytest's own tmp folders are private to the suite's user)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def first_contact(base):
    """A newcomer on a fresh machine with internet: in a clean clone with a fresh HOME and no COURSE_DATA_DIR, run
    the README's set-up and main job as typed; the internet is a local server of ../shared/data, reached through
    COURSE_DATA_MIRROR. As root, both run as an unprivileged account (created here) when it can sandbox.

    Returns {root, home, user, unprivileged: why not (None if it was), setup, demo (CompletedProcess),
    requested (paths the server was asked for), seconds}."""
    setup_cmd, demo_cmd = readme_block("## Set up and run")
    root, home = clean_clone(base / "course", venv=False), base / "home"
    home.mkdir()
    run_user, why = None, None  # why: why the commands could not run as an unprivileged account
    if os.geteuid() == 0:
        run_user, why = unprivileged_user()
        if run_user is not None:
            give_to(run_user, base)
    setup_env = {k: v for k, v in user_env(home).items() if "proxy" not in k.lower()}  # pip reaches its registry
    setup = run_as_typed(setup_cmd, root, setup_env, timeout=900, user=run_user)
    if run_user is not None and setup.returncode != 0 and "cannot create a sandbox" in setup.stdout:
        why = f"the unprivileged account cannot sandbox here: {setup.stdout.strip().splitlines()[-1]}"
        run_user = None  # the suite's own user grades instead; the unprivileged test says why it skipped
        setup = run_as_typed(setup_cmd, root, setup_env, timeout=900)
    with serve(SHARED_DATA) as (url, requested):
        start = time.perf_counter()
        demo = run_as_typed(demo_cmd, root, user_env(home, COURSE_DATA_MIRROR=url), timeout=2400, user=run_user)
        seconds = time.perf_counter() - start
    return {"root": root, "home": home, "user": (run_user or pwd.getpwuid(os.geteuid())).pw_name,
            "unprivileged": why, "setup": setup, "demo": demo, "requested": list(requested),
            "seconds": seconds, "commands": (setup_cmd, demo_cmd)}
