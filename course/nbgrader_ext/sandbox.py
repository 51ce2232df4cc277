"""Grading kernels run inside a bubblewrap sandbox.

nbgrader executes each submission in a Jupyter kernel: student code runs with the grader's rights.
SandboxedKernelManager (used by course.nbgrader_ext.guarded_execute.GuardedExecute, wired in by nbgrader_config.py) starts
every kernel under `bwrap` (Debian/Ubuntu package `bubblewrap`; no Docker, no daemon) so that the
student's code

- sees the machine read-only, with the course root (masters, gradebook, every student's work), the
  grader's home, /run and /tmp hidden;
- may write only to its own folder (autograded/<student>/<assignment>, the kernel's working directory)
  and to a private /tmp;
- reads Python and its packages read-only, and the datasets the grader checked before grading (from
  COURSE_DATA_DIR or the loader's cache, course/nbgrader_ext/preflight.py) as read-only files in /tmp/course-data,
  which its COURSE_DATA_DIR names: the kernel's loader reads exactly the grader's files;
- has no network (the kernel talks to nbgrader over Unix sockets), no capabilities, its own process
  tree, a clean environment, and limits on memory, file size and core dumps.

docs/grading_security.md lists what this does and does not protect against. Without bwrap, grading
refuses to start; COURSE_UNSANDBOXED_GRADING=1 runs kernels unsandboxed, with a loud warning.
"""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode

OPT_OUT = "COURSE_UNSANDBOXED_GRADING"
DATA_VIEW = "/tmp/course-data"  # inside the sandbox: <dataset>/<file>, each a read-only bind of the grader's file

# Environment variables the kernel keeps; the grader's other variables (tokens, passwords) stay out.
ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "COURSE_CIFAR10_SHA256",
            "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")
ENV_KEEP_PREFIXES = ("LC_",)


class SandboxError(RuntimeError):
    pass


@functools.cache
def bwrap_problem(bwrap="bwrap"):
    """None if bubblewrap runs here, else what is wrong and what to do."""
    path = shutil.which(bwrap)
    if path is None:
        return (f"bubblewrap ({bwrap}) is not installed. It sandboxes the kernels that run student code while "
                "grading. Install it: ./setup.sh does (on Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: "
                "sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap).")
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--cap-drop", "ALL", "--die-with-parent",
                            "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return (f"bubblewrap cannot create a sandbox here ({probe.stderr.strip() or f'exit {probe.returncode}'}). "
                "Unprivileged user namespaces may be disabled: on Ubuntu 24.04 and later, "
                "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0; on other systems, "
                "sudo sysctl kernel.unprivileged_userns_clone=1 (or user.max_user_namespaces=10000). Inside a "
                "container, run it with user namespaces allowed.")
    return None


def sandbox_problem(bwrap="bwrap"):
    """None if grading kernels can be sandboxed here, else one message saying what is wrong and what to do.
    (COURSE_UNSANDBOXED_GRADING=1 skips the sandbox, and this check, at the grader's risk.)"""
    if os.environ.get(OPT_OUT) == "1":
        return None
    if not sys.platform.startswith("linux"):
        problem = (f"grading needs Linux: its sandbox (bubblewrap) uses Linux namespaces, and this is "
                   f"{sys.platform}. Grade on a Linux machine or in a Linux virtual machine.")
    elif shutil.which("prlimit") is None:
        problem = "prlimit (util-linux) is missing: it sets the memory and file-size limits of grading kernels."
    else:
        problem = bwrap_problem(bwrap)
    if problem:
        problem += (f" To grade without a sandbox anyway (student code then runs with your rights), set {OPT_OUT}=1.")
    return problem


def _real(path):
    return str(Path(path).expanduser().resolve())


def _inside(path, folder):
    return Path(path) == Path(folder) or Path(folder) in Path(path).parents


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels start inside bwrap (see the module docstring)."""

    course_root = Unicode("", help="Folder hidden from student code [CourseDirectory.root or cwd].").tag(config=True)
    hidden_paths = List(Unicode(), help="More files or folders hidden from student code.").tag(config=True)
    readonly_paths = List(Unicode(), help="More paths student code may read even if hidden.").tag(config=True)
    memory_limit = Integer(4 << 30, help="Address space of each kernel process, bytes (RLIMIT_AS).").tag(config=True)
    file_size_limit = Integer(512 << 20, help="Largest file a kernel may write, bytes (RLIMIT_FSIZE).").tag(config=True)
    network = Bool(False, help="Give kernels the machine's network (off: no network at all).").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)

    _kernel_dir = None

    def _course_root(self):
        if self.course_root:
            return _real(self.course_root)
        from ..course import Course

        return _real(Course.of(self.config).root)

    def _gradebook_file(self):
        url = self.config.get("CourseDirectory", {}).get("db_url") or ""
        return _real(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None

    def hidden(self):
        """Paths whose contents student code must not see."""
        paths = [self._course_root(), _real("~"), "/root", "/run", "/var/run", "/var/tmp", "/etc/shadow", "/etc/gshadow",
                 "/etc/ssh", "/var/lib/postgresql", "/var/log"]
        paths += [_real(p) for p in self.hidden_paths]
        if self._gradebook_file():
            paths.append(self._gradebook_file())
        return [p for p in dict.fromkeys(paths) if p != "/" and os.path.lexists(p) and not os.path.islink(p)]

    def readable(self):
        """Paths student code may read: Python and its packages."""
        paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(_real(sys.executable)),
                 *self.readonly_paths]
        return [p for p in dict.fromkeys(_real(p) for p in paths) if os.path.exists(p)]

    @staticmethod
    def data_files():
        """{path inside the sandbox: the grader's file} for every dataset file the grader has (sha256-checked by
        the course's loader, which looks where the kernel's own loader would look outside the sandbox)."""
        from ..data import DATASETS, DatasetError, dataset_files

        binds = {}
        for name in DATASETS:
            try:
                files = dataset_files(name, download=False)
            except DatasetError:
                continue  # not on this machine: the notebook's loader says so, as it would to a student offline
            binds.update({f"{DATA_VIEW}/{name}/{file}": _real(path) for file, path in files.items()})
        return binds

    def sandbox_command(self, kernel_cmd, cwd, kernel_dir):
        """The bwrap command line that runs kernel_cmd with cwd as its only writable folder."""
        cwd = _real(cwd)
        hidden = self.hidden()
        cmd = [shutil.which("prlimit"), f"--as={self.memory_limit}", f"--fsize={self.file_size_limit}", "--core=0", "--",
               shutil.which(self.bwrap), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--unshare-all", "--cap-drop", "ALL", "--die-with-parent"]
        if self.network:
            cmd.append("--share-net")
        for path in hidden:  # an empty folder over each hidden folder, /dev/null over each hidden file
            cmd += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
        private_tmp = os.path.join(kernel_dir, "tmp")
        os.makedirs(private_tmp, exist_ok=True)
        cmd += ["--bind", private_tmp, "/tmp", "--tmpfs", DATA_VIEW]
        for inside, outside in self.data_files().items():
            cmd += ["--ro-bind", outside, inside]
        cmd += ["--remount-ro", DATA_VIEW]
        for path in self.readable():  # Python and the data, where a hidden folder or the private /tmp covers them
            if any(_inside(path, h) for h in [*hidden, "/tmp"]):
                cmd += ["--ro-bind", path, path]
        cmd += ["--bind", kernel_dir, kernel_dir, "--bind", cwd, cwd, "--chdir", cwd]
        for name, value in (("HOME", "/tmp"), ("MPLCONFIGDIR", "/tmp/matplotlib"), ("PYTHONNOUSERSITE", "1"),
                            ("COURSE_DATA_DIR", DATA_VIEW)):
            cmd += ["--setenv", name, value]
        # Inside its own process tree the kernel's parent is pid 1: told so, ipykernel does not mistake that
        # for "my parent died". --die-with-parent stops the sandbox when nbgrader stops.
        cmd += ["--setenv", "JPY_PARENT_PID", "1"]
        # -I: the kernel imports nothing from its working directory (a submitted ipykernel_launcher.py or
        # numpy.py would otherwise replace the real ones).
        python, *rest = kernel_cmd
        if os.path.basename(python).startswith("python") and "-I" not in rest:
            rest = ["-I", *rest]
        return [*cmd, "--", python, *rest]

    async def _async_pre_start_kernel(self, **kw):
        if os.environ.get(OPT_OUT) == "1":
            self.log.warning("!" * 100 + f"\n{OPT_OUT}=1: grading kernels run WITHOUT a sandbox; student code can read "
                             "and change every file you can (masters, gradebook, other students' work).\n" + "!" * 100)
            return await super()._async_pre_start_kernel(**kw)
        problem = sandbox_problem(self.bwrap)
        if problem:
            raise SandboxError(problem)
        # The kernel talks to nbgrader over Unix sockets in a folder of its own: it needs no network.
        self._kernel_dir = tempfile.mkdtemp(prefix="dlfs-kernel-")
        self.transport, self.ip = "ipc", os.path.join(self._kernel_dir, "ipc")
        self.connection_file = os.path.join(self._kernel_dir, "kernel.json")
        # Interrupt (after a cell's timeout) with a message: a SIGINT to the process group would stop bwrap.
        self.kernel_spec.interrupt_mode = "message"
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        env = kw.get("env") or dict(os.environ)
        kw["env"] = {k: v for k, v in env.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)}
        cmd = self.sandbox_command(kernel_cmd, kw.get("cwd") or os.getcwd(), self._kernel_dir)
        self.log.debug("Sandboxed kernel: %s", cmd)
        return cmd, kw

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._kernel_dir and not restart:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)
            self._kernel_dir = None

    cleanup_resources = _async_cleanup_resources
