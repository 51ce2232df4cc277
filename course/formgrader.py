"""`python -m course formgrader`: Jupyter with nbgrader's formgrader, on this course, for hand grading.

The formgrader reads nbgrader_config.py from the folder the server starts in, so the server starts in the
course root; it opens on the formgrader's page. Grades entered there go into the same gradebook the autograder
writes; `nbgrader generate_feedback <a> --force` and `python -m course report <a>` then show them.
"""

import os
import subprocess
import sys


def command(course, port=8888, ip="127.0.0.1"):
    argv = [sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={course.root}", f"--ServerApp.port={port}",
            f"--ServerApp.ip={ip}", "--ServerApp.open_browser=False", "--ServerApp.default_url=/formgrader"]
    if os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")  # in a container as root: Jupyter refuses otherwise
    return argv


def serve(course, port=8888, ip="127.0.0.1"):
    """Run the server until it is stopped (Ctrl-C); returns its exit code."""
    print(f"formgrader of {course.root}: open the http://{ip}:{port}/formgrader?token=... address printed below")
    try:
        return subprocess.call(command(course, port, ip), cwd=course.root)
    except KeyboardInterrupt:
        return 0
