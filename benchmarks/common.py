"""What every benchmark script shares: the machine's description, timing, loading a master's code.

Timing rule of all the scripts: run the thing once untimed (warm-up: caches, lazy imports, page
faults), then time it several times and report the median, with every run listed.
"""

import contextlib
import io
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the course checkout these scripts measure


def course():
    """The Course of the checkout (course/course.py)."""
    from course.course import Course

    return Course.at(ROOT)


# Thread-count variables of the BLAS libraries NumPy and PyTorch may use; read when a library loads.
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def timed(fn, reps=3, warmup=1):
    """Call fn() warmup times untimed, then reps times timed. Returns the reps wall times in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def median_runs(values, fmt="{:.2f}"):
    """'median (runs: a, b, c)' for a list of measurements."""
    return f"{fmt.format(statistics.median(values))} (runs: {', '.join(fmt.format(v) for v in values)})"


def thread_env(threads, env=None):
    """A copy of env (default os.environ) whose BLAS libraries use `threads` threads."""
    env = dict(os.environ if env is None else env)
    env.update({var: str(threads) for var in THREAD_VARS})
    return env


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        return f", {kib / 2**20:.0f} GiB memory"
    except (OSError, IndexError, ValueError):
        return ""


def blas():
    """NumPy's BLAS: library, version and threads (threadpoolctl when installed, else NumPy's build info)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return (f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernels; "
                    f"{p.get('num_threads')} threads in this process)")
    info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    threads = next((os.environ[v] for v in THREAD_VARS if os.environ.get(v)), os.cpu_count())
    return f"{info.get('name')} {info.get('version')} ({threads} threads in this process)"


def machine():
    """One line saying where the figures come from: CPU, cores, Python, NumPy and BLAS, load."""
    import numpy as np

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu_model()} ({platform.machine()}), {os.cpu_count()} cores ({usable} usable){memory_gib()}; "
            f"Python {platform.python_version()}, "
            f"NumPy {np.__version__} with {blas()}; load average {load} (1, 5, 15 min)")


def add_plot_option(parser, name):
    """--plot PATH, by default benchmarks/out/<name>.png; '' for none."""
    parser.add_argument("--plot", default=str(ROOT / "benchmarks" / "out" / f"{name}.png"),
                        help="where to write the chart ('' for none)")


def save_figure(fig, path):
    """Write fig to path (its folder made if needed) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def load_master(assignment, roles=("loads", "trains", "demonstrates"), also=(), edit=None):
    """Run the reference solution's code cells in-process: no test cells, none whose role (course/cells.py) is in
    `roles`, none of the grade ids in `also`; the namespace."""
    from course.notebooks import run_cells, solution_notebook

    a = course()[assignment]
    with contextlib.redirect_stdout(io.StringIO()):
        return run_cells(solution_notebook(a.master()), skip={*a.cells(*roles), *also}, edit=edit, label=assignment)
