"""The engines that run grade_submission over many tasks: in this process, a local process pool, or Dask."""

import contextlib
import logging
import time
from concurrent.futures import as_completed
from multiprocessing import get_context

from .worker import failed, grade_submission


def run_inline(tasks, on_result):
    for task in tasks:
        on_result(grade_submission(task))


def run_pool(tasks, workers, on_result, grade=grade_submission, timeout=None, lost=failed):
    """A local process pool (pebble's) running grade(task) for each Task. A submission that kills its worker
    process (os._exit, a crash, the memory limit) fails alone: pebble starts a new worker, the rest go on. With
    `timeout` (seconds), a task still running then is stopped. What a task that died or was stopped gives to
    on_result: lost(task, why)."""
    from pebble import ProcessExpired, ProcessPool

    # Workers fork from a clean server process that has imported nbgrader once: no state copied from the
    # caller (its threads, its open database connections), and a new worker starts in a fraction of a second.
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["course.grading.worker", "nbgrader.apps"])
    with ProcessPool(max_workers=workers, context=ctx) as pool:
        futures = {pool.schedule(grade, args=[task], timeout=timeout): task for task in tasks}
        for fut in as_completed(futures):
            try:
                on_result(fut.result())
            except ProcessExpired as exc:
                on_result(lost(futures[fut], "the grading process died while grading this submission "
                                             f"(exit code {exc.exitcode})"))
            except TimeoutError:
                on_result(lost(futures[fut], f"timed out after {timeout:g} s"))


def run_dask(tasks, dask, workers, on_result):
    """Dask distributed: dask is a scheduler address (tcp://host:8786), "local" for a LocalCluster of
    `workers` single-threaded processes on loopback, or a distributed.Client."""
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    with contextlib.ExitStack() as stack:
        if isinstance(dask, Client):
            client = dask
        elif dask == "local":
            # silence_logs: the workers' own logging (at shutdown, heartbeats to a closing scheduler fail with a
            # traceback on stderr); a submission's failure reaches us through its future, not through those logs.
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None,
                                                       silence_logs=logging.CRITICAL))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(dask))
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError as exc:
            raise RuntimeError(f"no Dask worker joined {client.scheduler.address} within 120 s: start some with "
                               f"`dask worker {client.scheduler.address} --nthreads 1` from the course root") from exc
        n_workers = len(client.nthreads())
        futures = {client.submit(grade_submission, task, key=f"autograde-{task.assignment}-{task.student}-"
                                                             f"{time.time_ns()}", pure=False): task for task in tasks}
        for fut in dask_completed(futures):
            try:
                on_result(fut.result())
            except Exception as exc:  # noqa: BLE001 (KilledWorker: the submission killed its workers)
                error = f"{type(exc).__name__}: {exc}"
                if type(exc).__name__ == "KilledWorker":
                    error = "the grading process died while grading this submission (Dask: on every worker tried)"
                on_result(failed(futures[fut], error))
            fut.release()
    return n_workers
