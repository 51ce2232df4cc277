#!/usr/bin/env bash
# One-command set-up of the course repository: what pip cannot install (bubblewrap, which sandboxes the
# kernels that run student code while grading; Python's venv module), then .venv with requirements.txt.
#
#   ./setup.sh            install, then check that grading can sandbox here
#
# On Debian/Ubuntu the system packages come from apt-get (through sudo unless run as root). Elsewhere it
# says what to install. It exits non-zero when grading would not work here, saying what to do.
set -uo pipefail
cd "$(dirname "$0")"

say() { printf '%s\n' "$*"; }
problem=""

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}

apt_install() {  # apt_install PACKAGE...: install with apt-get, or say how
  say "setup: installing $* with apt-get"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }; then
    say "setup: could not install $* (no root rights or no sudo?). Ask an administrator to run:"
    say "         sudo apt-get install $*"
    return 1
  fi
}

# 1. Python's venv module (Debian/Ubuntu ship it separately, as python3-venv).
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  if command -v apt-get >/dev/null; then
    apt_install python3-venv || exit 1
  else
    say "setup: Python's venv module is missing: install it with your system's package manager, then run ./setup.sh again."
    exit 1
  fi
fi

# 2. bubblewrap: grading runs every submission in a bwrap sandbox and refuses to grade without it.
os="$(uname -s)"
if [ "$os" != "Linux" ]; then
  problem="grading needs Linux (its sandbox, bubblewrap, uses Linux namespaces) and this is $os. Release, tests of
  the masters and feedback work here; grade on a Linux machine or in a Linux virtual machine."
elif ! command -v bwrap >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt_install bubblewrap || problem="bubblewrap is not installed (see above)."
  else
    problem="bubblewrap is not installed. Install the package 'bubblewrap' with your package manager
  (Fedora/RHEL: sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap; openSUSE: sudo zypper install
  bubblewrap), then run ./setup.sh again."
  fi
fi

# 3. The virtual environment.
if [ ! -x .venv/bin/python ]; then
  say "setup: creating .venv"
  python3 -m venv .venv || exit 1
fi
say "setup: installing requirements.txt into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip || exit 1
.venv/bin/python -m pip install --quiet -r requirements.txt || exit 1
# The tooling itself, editable: `course` on PATH and importable everywhere (nbgrader_config.py imports it).
.venv/bin/python -m pip install --quiet --no-deps -e . 2>/dev/null || .venv/bin/python -m pip install --no-deps -e . || exit 1

# 4. Can grading sandbox here? The same check the grader makes before it grades anyone.
if [ -z "$problem" ]; then
  problem="$(.venv/bin/python -c 'from course.nbgrader_ext.sandbox import sandbox_problem; print(sandbox_problem() or "")')" \
    || { say "setup: the sandbox check itself failed (see above)"; exit 1; }
fi
if [ -n "$problem" ]; then
  say ""
  say "setup: the course is installed, but grading cannot run here: $problem"
  exit 1
fi
say "setup: done. Next: . .venv/bin/activate && python -m course demo"
