"""Tests for course/data.py, the course's dataset loader.

No test touches the internet: every mirror list is replaced by closed ports or by a
local http.server on 127.0.0.1. Real MNIST comes from the read-only offline copy.
"""

import ast
import gzip
import hashlib
import io
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from worlds import serve

from course import data

# Read before the autouse fixture below clears the variable for each test.
SHARED_DATA = Path(os.environ.get("COURSE_DATA_DIR")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")
LOADER = Path(data.__file__)
MNIST_NAMES = list(data.MNIST_FILES)


# ---------------------------------------------------------------- helpers

def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(folder):
    """{relative path: (size, mtime_ns, sha256)} of every file under folder."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, sha256_of(p))
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def dead_url():
    """Base URL of a loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def no_network(*args, **kwargs):
    """Stand-in for urlopen in tests where the network must not be used."""
    raise AssertionError(f"unexpected network access: {args}")


def write_idx(path, magic, array, size_error=0):
    """Write a gzipped IDX file (big-endian magic, dims, bytes); size_error drops bytes."""
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    raw = header + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(raw[:len(raw) - size_error])


def write_fake_mnist(folder, n_train=12, n_test=5, seed=0):
    """Write small valid MNIST-format files into folder; return {file name: sha256}
    for monkeypatching data.MNIST_FILES (real MNIST has no checksum override)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051,
                  rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, np.arange(n) % 10)
    return {name: sha256_of(folder / name) for name in MNIST_NAMES}


def write_fake_cifar10(folder, n_per_batch=7, seed=0, *, omit=(), replace=None):
    """Write a small archive in the CIFAR-10 python format; return its sha256.

    Creates folder/cifar-10-python.tar.gz (folder is the `cifar10/` folder; it is
    created if needed). Like the real archive it holds cifar-10-batches-py/ with
    data_batch_1..5, test_batch and batches.meta, each a protocol-2 pickle of a
    dict with bytes keys, b'data' (n, 3072) uint8 in CHW order, b'labels' a list.
    Contents, for batch k (1..5 for data_batch_k, 6 for test_batch): label of
    image i is (k + i) % 10; pixels are random except image 0, whose
    red = row, green = column, blue = 10 * k.
    The same arguments give the same bytes. omit: batch names to leave out;
    replace: {batch name: bytes} stored instead of that batch's pickle.
    """
    rng = np.random.default_rng(seed)
    members = {}
    for k, name in enumerate(data.CIFAR10_BATCHES, start=1):
        x = rng.integers(0, 256, (n_per_batch, 3, 32, 32), dtype=np.uint8)
        x[0, 0] = np.arange(32)[:, None]  # red = row
        x[0, 1] = np.arange(32)[None, :]  # green = column
        x[0, 2] = 10 * k
        batch = {b"batch_label": name.encode(),
                 b"labels": [(k + i) % 10 for i in range(n_per_batch)],
                 b"data": x.reshape(n_per_batch, 3072),
                 b"filenames": [f"img_{k}_{i}.png".encode() for i in range(n_per_batch)]}
        members[name] = pickle.dumps(batch, protocol=2)
    members["batches.meta"] = pickle.dumps(
        {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog",
                          b"frog", b"horse", b"ship", b"truck"],
         b"num_cases_per_batch": n_per_batch, b"num_vis": 3072}, protocol=2)
    members.update(replace or {})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data.CIFAR10_FILE
    order = ["data_batch_4", "test_batch", "data_batch_3", "batches.meta",
             "data_batch_2", "data_batch_5", "data_batch_1"]  # not sorted, like the real one
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar:
        top = tarfile.TarInfo("cifar-10-batches-py")
        top.type, top.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(top)
        for name in order:
            if name not in omit:
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(members[name])
                tar.addfile(info, io.BytesIO(members[name]))
    return sha256_of(path)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test: empty cache in tmp, no COURSE_* variables, mirrors that refuse."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_CIFAR10_SHA256", raising=False)
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "MNIST_MIRRORS", [dead_url()])
    monkeypatch.setattr(data, "CIFAR10_MIRRORS", [dead_url()])
    return tmp_path / "cache"


@pytest.fixture
def mnist_dir():
    folder = SHARED_DATA / "mnist"
    if not all((folder / name).is_file() for name in MNIST_NAMES):
        pytest.skip(f"offline MNIST copy not found in {folder}")
    return folder


def copy_mnist(src, dest, names=MNIST_NAMES):
    dest.mkdir(parents=True)
    for name in names:
        shutil.copyfile(src / name, dest / name)


# ---------------------------------------------------------------- MNIST

def test_real_mnist_from_offline_copy_shapes_dtypes_label_counts_no_stderr(
        mnist_dir, monkeypatch, capfd, isolated):
    before = snapshot(mnist_dir)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mnist_dir.parent))
    (x_train, y_train), (x_test, y_test) = data.load_mnist()

    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.int64
    assert y_test.shape == (10000,) and y_test.dtype == np.int64
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                             5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                            892, 958, 1028, 974, 1009]
    assert x_train.flags.writeable
    assert snapshot(mnist_dir) == before
    assert not isolated.exists()  # files were used in place, nothing cached
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # stderr in a graded cell would zero it


def test_missing_file_in_course_data_dir_error_names_file_and_folder(
        mnist_dir, tmp_path, monkeypatch):
    missing = "t10k-images-idx3-ubyte.gz"
    copy_mnist(mnist_dir, tmp_path / "d" / "mnist", [n for n in MNIST_NAMES if n != missing])
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(data.DatasetError) as info:
        data.load_mnist()
    message = str(info.value)
    assert missing in message and "COURSE_DATA_DIR" in message
    assert str(tmp_path / "d" / "mnist") in message
    assert all(name in message for name in MNIST_NAMES)  # lists every expected file


@pytest.mark.parametrize("damage", ["truncated", "flipped_byte"])
def test_corrupt_file_in_course_data_dir_raises_sha256_error_and_folder_untouched(
        mnist_dir, tmp_path, monkeypatch, damage):
    folder = tmp_path / "d" / "mnist"
    copy_mnist(mnist_dir, folder)
    bad = folder / "train-labels-idx1-ubyte.gz"
    raw = bytearray(bad.read_bytes())
    if damage == "truncated":
        raw = raw[:len(raw) // 2]
    else:
        raw[1000] ^= 0x01
    bad.write_bytes(bytes(raw))
    before = snapshot(folder)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(data.DatasetError, match="sha256") as info:
        data.load_mnist()
    assert "corrupt" in str(info.value) and str(bad) in str(info.value)
    assert data.MNIST_FILES[bad.name] in str(info.value)  # the expected checksum
    assert snapshot(folder) == before


def test_download_tries_next_mirror_caches_verified_files_and_refetches_corrupt_cache(
        mnist_dir, monkeypatch, isolated):
    cache = isolated / "mnist"
    with serve(mnist_dir) as (url, requested):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [dead_url(), url])
        (x_train, y_train), _ = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and len(y_train) == 60000
    assert sorted(requested) == sorted("/" + name for name in MNIST_NAMES)
    assert files_under(cache) == sorted(MNIST_NAMES)  # no .part files left
    assert all(sha256_of(cache / n) == sha for n, sha in data.MNIST_FILES.items())

    with monkeypatch.context() as m:  # server is stopped; any network access would fail
        m.setattr(data.urllib.request, "urlopen", no_network)
        (x_again, _), _ = data.load_mnist()
    assert np.array_equal(x_again, x_train)

    damaged = cache / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(damaged.read_bytes())
    raw[100] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    with serve(mnist_dir) as (url, requested):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [url])
        _, (_, y_test) = data.load_mnist()
    assert requested == ["/t10k-labels-idx1-ubyte.gz"]  # only the damaged file again
    assert sha256_of(damaged) == data.MNIST_FILES[damaged.name]
    assert np.bincount(y_test)[1] == 1135
    assert files_under(cache) == sorted(MNIST_NAMES)


def test_server_with_wrong_bytes_gives_checksum_error_and_leaves_cache_empty(
        tmp_path, monkeypatch, isolated):
    served = tmp_path / "served"
    served.mkdir()
    for name in MNIST_NAMES:
        (served / name).write_bytes(b"<html>not the file you wanted</html>")
    (isolated / "mnist").mkdir(parents=True)
    (isolated / "mnist" / MNIST_NAMES[0]).write_bytes(b"damaged cached copy")
    with serve(served) as (url, _):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [dead_url(), url])
        with pytest.raises(data.DatasetError, match="sha256") as info:
            data.load_mnist()
    assert url + MNIST_NAMES[0] in str(info.value)
    assert "COURSE_DATA_DIR" in str(info.value)  # says how to work offline
    assert files_under(isolated) == []  # the damaged cached copy is gone too


def test_files_missing_from_course_data_dir_are_taken_from_cache(tmp_path, monkeypatch,
                                                                  isolated):
    monkeypatch.setattr(data, "MNIST_FILES", write_fake_mnist(tmp_path / "full"))
    copy_mnist(tmp_path / "full", tmp_path / "d" / "mnist", MNIST_NAMES[:2])
    copy_mnist(tmp_path / "full", isolated / "mnist", MNIST_NAMES[2:])
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (12, 28, 28) and x_test.shape == (5, 28, 28)
    assert y_train.tolist() == [i % 10 for i in range(12)] and y_test.tolist() == list(range(5))


def test_explicit_data_dir_with_missing_file_raises_without_downloading(tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(data, "MNIST_FILES", write_fake_mnist(tmp_path / "full"))
    copy_mnist(tmp_path / "full", tmp_path / "d" / "mnist", MNIST_NAMES[:3])
    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    with pytest.raises(data.DatasetError, match=MNIST_NAMES[3]) as info:
        data.load_mnist(data_dir=tmp_path / "d")
    assert str(tmp_path / "d" / "mnist") in str(info.value)
    shutil.copyfile(tmp_path / "full" / MNIST_NAMES[3], tmp_path / "d" / "mnist" / MNIST_NAMES[3])
    (x_train, _), _ = data.load_mnist(data_dir=str(tmp_path / "d"))  # a str works too
    assert x_train.shape == (12, 28, 28)


def test_course_data_mirror_is_tried_first_under_the_datasets_folder(tmp_path, monkeypatch, isolated):
    monkeypatch.setattr(data, "MNIST_FILES", write_fake_mnist(tmp_path / "served" / "mnist"))
    with serve(tmp_path / "served") as (url, requested), serve(tmp_path / "served" / "mnist") as (public, other):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [public])  # would work too, but comes second
        monkeypatch.setenv("COURSE_DATA_MIRROR", url.rstrip("/"))  # with or without the trailing slash
        (x_train, _), _ = data.load_mnist()
    assert x_train.shape == (12, 28, 28)
    assert sorted(requested) == sorted(f"/mnist/{n}" for n in MNIST_NAMES) and other == []
    with serve(tmp_path / "nothing") as (url, requested):  # a mirror without the files: the next one is tried
        (tmp_path / "nothing").mkdir()
        monkeypatch.setenv("COURSE_DATA_MIRROR", url)
        with pytest.raises(data.DatasetError, match="COURSE_DATA_MIRROR") as info:
            data.dataset_files("cifar10")
    assert f"{url}cifar10/{data.CIFAR10_FILE}: HTTP Error 404" in str(info.value)
    assert set(requested) == {f"/cifar10/{data.CIFAR10_FILE}"}  # (a 404 is logged twice)


def test_dataset_files_without_download_never_uses_the_network(tmp_path, monkeypatch, isolated):
    monkeypatch.setattr(data, "MNIST_FILES", write_fake_mnist(tmp_path / "full"))
    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    with pytest.raises(data.DatasetError, match="neither in"):
        data.dataset_files("mnist", download=False)
    copy_mnist(tmp_path / "full", isolated / "mnist")
    assert data.dataset_files("mnist", download=False) == {n: isolated / "mnist" / n for n in MNIST_NAMES}
    with pytest.raises(ValueError, match="unknown dataset"):
        data.dataset_files("imagenet")


def test_default_cache_is_home_cache_dlfs(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MNIST_FILES", write_fake_mnist(tmp_path / "served"))
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with serve(tmp_path / "served") as (url, _):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [url])
        data.load_mnist()
    assert files_under(tmp_path / "home") == sorted(f".cache/dlfs/mnist/{n}" for n in MNIST_NAMES)


@pytest.mark.parametrize("defect", ["wrong_magic", "wrong_size", "not_gzip", "count_mismatch"])
def test_malformed_mnist_content_raises_dataset_error_naming_file(tmp_path, monkeypatch,
                                                                   defect):
    folder = tmp_path / "mnist"
    write_fake_mnist(folder)
    bad = folder / "train-images-idx3-ubyte.gz"
    images = np.zeros((12, 28, 28))
    if defect == "wrong_magic":
        write_idx(bad, 2049, images)
    elif defect == "wrong_size":
        write_idx(bad, 2051, images, size_error=1)
    elif defect == "not_gzip":
        bad.write_bytes(b"plain bytes, no gzip")
    else:
        write_idx(bad, 2051, images[:11])
    monkeypatch.setattr(data, "MNIST_FILES", {n: sha256_of(folder / n) for n in MNIST_NAMES})
    with pytest.raises(data.DatasetError, match="train") as info:
        data.load_mnist(data_dir=tmp_path)
    if defect != "count_mismatch":
        assert str(bad) in str(info.value)


# ---------------------------------------------------------------- CIFAR-10

@pytest.mark.parametrize("how", ["env_var", "argument"])
def test_fake_cifar10_shapes_pixel_layout_labels_no_stderr(tmp_path, monkeypatch, capfd,
                                                           how):
    folder = tmp_path / "d" / "cifar10"
    monkeypatch.setenv("COURSE_CIFAR10_SHA256", write_fake_cifar10(folder))
    before = snapshot(folder)
    if how == "env_var":
        monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
        (x_train, y_train), (x_test, y_test) = data.load_cifar10()
    else:
        (x_train, y_train), (x_test, y_test) = data.load_cifar10(data_dir=tmp_path / "d")

    assert x_train.shape == (35, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (7, 32, 32, 3) and x_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert y_train.tolist() == [(k + i) % 10 for k in range(1, 6) for i in range(7)]
    assert y_test.tolist() == [(6 + i) % 10 for i in range(7)]
    rows, cols = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    for k, image in [(1, x_train[0]), (2, x_train[7]), (5, x_train[28]), (6, x_test[0])]:
        assert np.array_equal(image[:, :, 0], rows)  # red channel = row index
        assert np.array_equal(image[:, :, 1], cols)  # green channel = column index
        assert np.all(image[:, :, 2] == 10 * k)      # blue marks the batch: order kept
    assert snapshot(folder) == before
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("expected", ["published", "wrong_override"])
def test_cifar10_wrong_checksum_raises_and_folder_untouched(tmp_path, monkeypatch, expected):
    folder = tmp_path / "cifar10"
    actual = write_fake_cifar10(folder)
    if expected == "wrong_override":
        monkeypatch.setenv("COURSE_CIFAR10_SHA256", "0" * 64)
    before = snapshot(folder)
    with pytest.raises(data.DatasetError, match="sha256") as info:
        data.load_cifar10(data_dir=tmp_path)
    assert actual in str(info.value) and data.CIFAR10_FILE in str(info.value)
    assert snapshot(folder) == before


def test_cifar10_archive_without_test_batch_raises(tmp_path, monkeypatch):
    sha = write_fake_cifar10(tmp_path / "cifar10", omit=("test_batch",))
    monkeypatch.setenv("COURSE_CIFAR10_SHA256", sha)
    with pytest.raises(data.DatasetError, match="test_batch"):
        data.load_cifar10(data_dir=tmp_path)


@pytest.mark.parametrize("content", [
    b"not a pickle",
    pickle.dumps({b"data": np.zeros((7, 100), np.uint8), b"labels": [0] * 7}, protocol=2),
    pickle.dumps({b"labels": [0] * 7}, protocol=2),
], ids=["not_a_pickle", "wrong_data_shape", "no_data_key"])
def test_cifar10_malformed_batch_raises_dataset_error_naming_member(tmp_path, monkeypatch,
                                                                    content):
    sha = write_fake_cifar10(tmp_path / "cifar10", replace={"data_batch_3": content})
    monkeypatch.setenv("COURSE_CIFAR10_SHA256", sha)
    with pytest.raises(data.DatasetError, match="data_batch_3"):
        data.load_cifar10(data_dir=tmp_path)


def test_cifar10_download_from_second_mirror_into_cache(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("COURSE_CIFAR10_SHA256", write_fake_cifar10(tmp_path / "served"))
    with serve(tmp_path / "served") as (url, requested):
        monkeypatch.setattr(data, "CIFAR10_MIRRORS", [dead_url(), url])
        (x_train, _), (x_test, _) = data.load_cifar10()
    assert requested == ["/" + data.CIFAR10_FILE]
    assert files_under(isolated) == [f"cifar10/{data.CIFAR10_FILE}"]
    assert x_train.shape == (35, 32, 32, 3) and x_test.shape == (7, 32, 32, 3)
    data.load_cifar10()  # from the cache; the mirrors are gone


def test_cifar10_offline_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10()
    message = str(info.value)
    assert "connect to the internet" in message and "COURSE_DATA_DIR" in message
    assert str(tmp_path / "empty" / "cifar10") in message and data.CIFAR10_FILE in message
    assert data.CIFAR10_MIRRORS[0] + data.CIFAR10_FILE in message


# ---------------------------------------------------------------- the source itself

def test_write_fake_cifar10_is_deterministic(tmp_path):
    assert write_fake_cifar10(tmp_path / "a") == write_fake_cifar10(tmp_path / "b")
    assert write_fake_cifar10(tmp_path / "c", seed=1) != write_fake_cifar10(tmp_path / "a")


def test_loader_is_self_contained_for_pasting_into_a_notebook():
    source = LOADER.read_text()
    tree = ast.parse(source)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert all(node.level == 0 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))
    assert imported - set(sys.stdlib_module_names) == {"numpy", "tqdm"}
    assert "__file__" not in source and "__main__" not in source
    # Run the text alone in a fresh interpreter, as a pasted notebook cell would be.
    check = "\nassert callable(load_mnist) and callable(load_cifar10)"
    result = subprocess.run([sys.executable, "-c", source + check], cwd=LOADER.anchor,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # no output at import
