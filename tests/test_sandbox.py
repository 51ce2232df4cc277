"""The bubblewrap sandbox of grading kernels (course/sandbox.py): what student code can read, write and reach
while plain `nbgrader autograde` grades it, and that grading refuses to run unsandboxed unless told to."""

import asyncio
import json
import logging
import os
import socket
import sys
from pathlib import Path

import nbformat
import pytest
from checkout import COURSE, ROOT
from quiz_course import QUIZ, add_quiz, autograde, scores, submit, variant

from course import release
from course.course import Course
from course.nbgrader_ext import sandbox
from course.nbgrader_ext.sandbox import OPT_OUT, SandboxedKernelManager, SandboxError
from course.release import copy_course

PROBE = '''
import json, os, socket
ROOT, PORT = {root!r}, {port!r}
report = {{"read": {{}}, "write": {{}}}}
for name, path in {{"master": f"{{ROOT}}/source/quiz/quiz.ipynb", "gradebook": f"{{ROOT}}/gradebook.db",
                   "other student": f"{{ROOT}}/submitted/honest/quiz/quiz.ipynb", "home": {home!r},
                   "tooling": f"{{ROOT}}/course/checks.py"}}.items():
    try:
        with open(path, "rb") as f:
            report["read"][name] = len(f.read())
    except OSError as exc:
        report["read"][name] = type(exc).__name__
for name, path in {{"course root": f"{{ROOT}}/planted.txt", "other student": f"{{ROOT}}/submitted/honest/quiz/quiz.ipynb",
                   "tmp": "/tmp/scratch.txt", "own folder": "probe-output.txt"}}.items():
    try:
        with open(path, "w") as f:
            f.write("probe")
        report["write"][name] = "written"
    except OSError as exc:
        report["write"][name] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    report["network"] = "connected"
except OSError as exc:
    report["network"] = type(exc).__name__
os.symlink(f"{{ROOT}}/source/quiz/quiz.ipynb", "answers.ipynb")
os.symlink("../../../gradebook.db", "grades.db")
os.mkfifo("pipe")
report["secret_env"] = os.environ.get("DLFS_TEST_SECRET")
report["processes"] = len([p for p in os.listdir("/proc") if p.isdigit()])
import numpy
report["numpy"] = numpy.__file__
data = os.environ.get("COURSE_DATA_DIR", "")
report["data"] = {{"dir": data, "mnist": sorted(os.listdir(f"{{data}}/mnist")) if os.path.isdir(f"{{data}}/mnist") else []}}
for name, path in {{"data file": f"{{data}}/mnist/train-labels-idx1-ubyte.gz", "data folder": f"{{data}}/mnist/new.gz"}}.items():
    try:
        with open(path, "ab") as f:
            f.write(b"x")
        report["data"][name] = "written"
    except OSError as exc:
        report["data"][name] = type(exc).__name__
print("PROBE" + json.dumps(report))
'''


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    root = copy_course(COURSE, tmp_path_factory.mktemp("sandbox")).root
    add_quiz(root)
    submit(root, "honest", variant())
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    code = PROBE.format(root=str(root), port=listener.getsockname()[1], home=str(Path.home() / ".bashrc"))
    submit(root, "probe", variant(extra=[("add", code)]))
    honest_before = (root / "submitted" / "honest" / QUIZ / "quiz.ipynb").read_bytes()
    os.environ["DLFS_TEST_SECRET"] = "grader-only"
    master_mode = (root / "source" / QUIZ / "quiz.ipynb").stat().st_mode
    try:
        proc = autograde(root, QUIZ)
        release.feedback(Course.at(root)[QUIZ])
    finally:
        del os.environ["DLFS_TEST_SECRET"]
        listener.close()
    graded = nbformat.read(str(root / "autograded" / "probe" / QUIZ / "quiz.ipynb"), as_version=4)
    probe = next(c for c in graded.cells if "PROBE" in c.source)
    text = "".join(o.get("text", "") for o in probe.outputs)
    report = json.loads(text.split("PROBE", 1)[1].splitlines()[0])
    return {"root": root, "proc": proc, "report": report, "honest_before": honest_before, "master_mode": master_mode,
            "scores": scores(root, QUIZ)}


def test_grading_runs_and_honest_students_keep_full_marks(probed):
    assert probed["proc"].returncode == 0, probed["proc"].stderr[-3000:]
    assert probed["scores"]["honest"] == {"test_add": 1.0, "test_mean": 1.0}
    assert probed["scores"]["probe"] == {"test_add": 1.0, "test_mean": 1.0}


def test_student_code_cannot_read_masters_gradebook_or_other_work(probed):
    read = probed["report"]["read"]
    for name in ["master", "gradebook", "other student", "home", "tooling"]:
        assert read[name] == "FileNotFoundError", f"student code could read the {name}: {read}"


def test_student_code_writes_only_its_own_folder(probed):
    write, root = probed["report"]["write"], probed["root"]
    assert write["own folder"] == "written" and write["tmp"] == "written"
    assert (root / "autograded" / "probe" / QUIZ / "probe-output.txt").is_file()
    assert not (root / "planted.txt").exists(), "a write into the course root reached the real folder"
    assert (root / "submitted" / "honest" / QUIZ / "quiz.ipynb").read_bytes() == probed["honest_before"]


def test_links_planted_by_student_code_lead_nowhere(probed):
    root = probed["root"]
    for folder in [root / "autograded" / "probe" / QUIZ, root / "feedback" / "probe" / QUIZ]:
        names = sorted(p.name for p in folder.iterdir())
        assert not {"answers.ipynb", "grades.db", "pipe"} & set(names), f"{folder}: {names}"
    assert (root / "source" / QUIZ / "quiz.ipynb").stat().st_mode == probed["master_mode"], \
        "nbgrader changed the master's permissions through a link"


def test_student_code_has_no_network_no_secrets_and_its_own_processes(probed):
    report = probed["report"]
    assert report["network"] != "connected"
    assert report["secret_env"] is None, "the grader's environment leaked into the kernel"
    assert report["processes"] <= 3, "the kernel sees processes outside its sandbox"
    assert report["numpy"].startswith(sys.prefix), "Python's packages are readable inside the sandbox"


def test_kernels_read_exactly_the_graders_dataset_files_read_only(probed):
    from course.data import MNIST_FILES
    from course.nbgrader_ext.sandbox import DATA_VIEW

    data = probed["report"]["data"]
    assert data["dir"] == DATA_VIEW and data["mnist"] == sorted(MNIST_FILES), data
    assert {data["data file"], data["data folder"]} <= {"OSError", "PermissionError"}, f"the data is writable: {data}"


def test_the_data_view_binds_the_files_the_loader_finds(tmp_path, monkeypatch):
    from course.data import MNIST_FILES, dataset_files
    from course.nbgrader_ext.sandbox import DATA_VIEW

    km = SandboxedKernelManager(course_root=str(tmp_path))
    binds = km.data_files()
    expected = {f"{DATA_VIEW}/mnist/{f}": str(p.resolve()) for f, p in dataset_files("mnist", download=False).items()}
    assert {k: v for k, v in binds.items() if "/mnist/" in k} == expected and len(expected) == len(MNIST_FILES)
    cmd = " ".join(km.sandbox_command([sys.executable, "-m", "ipykernel_launcher"], tmp_path, str(tmp_path / "k")))
    assert f"--tmpfs {DATA_VIEW}" in cmd and f"--remount-ro {DATA_VIEW}" in cmd
    assert f"--setenv COURSE_DATA_DIR {DATA_VIEW}" in cmd
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert km.data_files() == {}, "no data here: nothing to bind (the notebook's loader then says what to do)"


def test_the_sandbox_hides_the_course_and_exposes_data_read_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    km = SandboxedKernelManager(course_root=str(tmp_path), readonly_paths=[str(data)])
    cwd = tmp_path / "autograded" / "s" / "a"
    cwd.mkdir(parents=True)
    cmd = km.sandbox_command([sys.executable, "-m", "ipykernel_launcher"], cwd, str(tmp_path / "k"))
    text = " ".join(cmd)
    assert f"--tmpfs {tmp_path}" in text and f"--bind {cwd} {cwd} --chdir {cwd}" in text
    assert f"--ro-bind {data} {data}" in text
    assert "--unshare-all" in cmd and "--cap-drop" in cmd and "--share-net" not in cmd
    assert f"--as={km.memory_limit}" in cmd
    kernel = cmd[len(cmd) - cmd[::-1].index("--"):]
    assert kernel[:2] == [sys.executable, "-I"], "the kernel must not import modules from its working folder"


def test_grading_refuses_to_start_without_bubblewrap(monkeypatch):
    monkeypatch.delenv(OPT_OUT, raising=False)
    km = SandboxedKernelManager(kernel_name="python3", bwrap="no-such-bwrap")
    with pytest.raises(SandboxError, match=f"apt-get install bubblewrap.*{OPT_OUT}=1"):
        asyncio.run(km.start_kernel())
    assert sandbox.bwrap_problem() is None, "bubblewrap must work on the machines that run these tests"


def test_opting_out_runs_unsandboxed_with_a_loud_warning(monkeypatch, caplog):
    monkeypatch.setenv(OPT_OUT, "1")
    km = SandboxedKernelManager(kernel_name="python3", bwrap="no-such-bwrap")
    km.log = logging.getLogger("test_sandbox")

    async def start_and_stop():
        await km.start_kernel()
        try:
            assert await km.is_alive()
        finally:
            await km.shutdown_kernel(now=True)

    with caplog.at_level(logging.WARNING, logger="test_sandbox"):
        asyncio.run(start_and_stop())
    assert "WITHOUT a sandbox" in caplog.text


def test_the_private_jupyter_client_hooks_the_sandbox_overrides_have_not_changed():
    """SandboxedKernelManager overrides two private methods of jupyter_client (there is no public hook between
    "the kernel command is built" and "the process starts" that can wrap it in bwrap). jupyter_client is pinned in
    requirements.txt; this fails loudly when an upgrade changes what the overrides rely on."""
    import inspect
    import re

    import jupyter_client
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    pinned = re.search(r"^jupyter_client==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert jupyter_client.__version__ == pinned, (
        f"jupyter_client {jupyter_client.__version__} is installed, {pinned} pinned: check course/sandbox.py's "
        "overrides of _async_pre_start_kernel and _async_cleanup_resources against the new version, then update "
        "the pin and this test")
    assert str(inspect.signature(AsyncKernelManager._async_pre_start_kernel)) == \
        "(self, *, transport_encryption: str | None = None, **kw: Any) -> Tuple[List[str], Dict[str, Any]]"
    assert str(inspect.signature(AsyncKernelManager._async_cleanup_resources)) == "(self, restart: bool = False) -> None"
    start = inspect.getsource(KernelManager._async_start_kernel)
    assert "kernel_cmd, kw = await self._async_pre_start_kernel(**kw)" in start, "the start sequence changed"
    assert "cleanup_resources" in AsyncKernelManager.__dict__
