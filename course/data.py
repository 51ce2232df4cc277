# @title The course's dataset loader (done for you: run this cell; Colab folds its code away)
"""Dataset loaders for the course: MNIST and CIFAR-10 as NumPy arrays.

    (x_train, y_train), (x_test, y_test) = load_mnist()    # x: (N, 28, 28) uint8
    (x_train, y_train), (x_test, y_test) = load_cifar10()  # x: (N, 32, 32, 3) uint8

The first call downloads the files (with a progress bar) into a cache folder,
~/.cache/dlfs/ or $COURSE_CACHE_DIR if that variable is set; later calls read
the cache. Every file is checked against its published sha256 before use.
COURSE_DATA_MIRROR=URL (a server with URL/mnist/ and URL/cifar10/) is tried
before the public mirrors, e.g. a copy your course serves itself.

Offline use: on a computer with internet, download the files named in
MNIST_FILES (from a URL in MNIST_MIRRORS) or CIFAR10_FILE (from CIFAR10_MIRRORS),
put them in a folder X/mnist/ or X/cifar10/, then either pass data_dir="X" or set
the environment variable COURSE_DATA_DIR=X (in a notebook:
os.environ["COURSE_DATA_DIR"] = "X"). That folder is only read, never modified.
Files missing from $COURSE_DATA_DIR are taken from the cache or downloaded.

COURSE_CIFAR10_SHA256 replaces the expected sha256 of the CIFAR-10 archive
(for a re-packed archive). Every data problem raises DatasetError, whose
message says what to do.
"""

import gzip
import hashlib
import http.client
import math
import os
import pickle
import struct
import tarfile
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

# Base URLs, tried in order; a file's URL is base + file name.
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
MNIST_FILES = {  # file name -> sha256 of the original gzip file
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
CIFAR10_MIRRORS = [
    "https://www.cs.toronto.edu/~kriz/",     # the authors' page
    "https://dataset.bj.bcebos.com/cifar/",  # PaddlePaddle's dataset mirror: the same archive (MD5 c58f3010...)
]
CIFAR10_FILE = "cifar-10-python.tar.gz"  # 170498071 bytes
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
TIMEOUT = 30  # seconds without an answer before a mirror counts as unreachable


class DatasetError(RuntimeError):
    """A dataset file is missing, damaged or cannot be downloaded; the message says what to do."""


DATASETS = {"mnist": "load_mnist", "cifar10": "load_cifar10"}  # dataset -> the function that loads it


def dataset_files(name, data_dir=None, download=True):
    """{file name: Path} of dataset `name` ("mnist" or "cifar10"), each sha256-checked:
    from data_dir, $COURSE_DATA_DIR or the cache, downloading what is missing (unless
    download=False: then a missing file raises DatasetError)."""
    if name == "mnist":
        files, mirrors = MNIST_FILES, MNIST_MIRRORS
    elif name == "cifar10":
        sha256 = os.environ.get("COURSE_CIFAR10_SHA256", "").strip().lower() or CIFAR10_SHA256
        files, mirrors = {CIFAR10_FILE: sha256}, CIFAR10_MIRRORS
    else:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    own = os.environ.get("COURSE_DATA_MIRROR", "").strip()
    mirrors = ([own.rstrip("/") + f"/{name}/"] if own else []) + mirrors
    return _get_files(name, files, mirrors, data_dir, download)


def load_mnist(data_dir=None):
    """Load MNIST, 28x28 grey-scale images of handwritten digits.

    Returns (x_train, y_train), (x_test, y_test): x is uint8 of shape (N, 28, 28)
    with values 0..255 (0 = background), y is int64 of shape (N,) with digits 0..9;
    N = 60000 for train and 10000 for test. data_dir: see the module docstring.
    """
    paths = dataset_files("mnist", data_dir)
    splits = []
    for prefix in ["train", "t10k"]:
        x = _read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"], 2051, (28, 28))
        y = _read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"], 2049, ())
        if len(x) != len(y):
            raise DatasetError(f"MNIST {prefix} files disagree: {len(x)} images but {len(y)} labels. "
                               "Replace them with intact copies of the original files.")
        splits.append((x, y.astype(np.int64)))
    return splits[0], splits[1]


def load_cifar10(data_dir=None):
    """Load CIFAR-10, 32x32 colour images of 10 classes (0 airplane, 1 automobile,
    2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck).

    Returns (x_train, y_train), (x_test, y_test): x is uint8 of shape (N, 32, 32, 3)
    (row, column, RGB channel), y is int64 of shape (N,) with classes 0..9;
    N = 50000 for train and 10000 for test. data_dir: see the module docstring.
    """
    path = dataset_files("cifar10", data_dir)[CIFAR10_FILE]
    batches = _read_cifar10_archive(path)
    train = [batches[name] for name in CIFAR10_BATCHES[:5]]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), batches["test_batch"]


def _get_files(name, files, mirrors, data_dir, download=True):
    """Return {file name: Path} for the files of dataset `name`, each sha256-checked.

    files maps file name -> expected sha256; mirrors are base URLs tried in order.
    """
    env_dir = os.environ.get("COURSE_DATA_DIR")
    user_dir = Path(data_dir or env_dir).expanduser() / name if (data_dir or env_dir) else None
    cache_root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "dlfs"
    cache_dir = Path(cache_root).expanduser() / name
    urls = "\n".join(f"  {base}{file}" for file in files for base in mirrors)
    advice = ("To fix this, connect to the internet and run again, or download these files "
              f"on another computer (each from one of its URLs):\n{urls}\n"
              f"then put them in a folder X/{name}/ (X: any folder) and set COURSE_DATA_DIR=X "
              '(in a notebook: os.environ["COURSE_DATA_DIR"] = "X"), or set COURSE_DATA_MIRROR '
              f"to a server that serves them under {name}/.")
    paths = {}
    for file, sha256 in files.items():
        if user_dir is not None and (user_dir / file).is_file():
            paths[file] = _check_user_file(user_dir / file, sha256)
        elif data_dir is not None:  # an explicit argument must be right: no silent download
            raise DatasetError(f"{user_dir / file} does not exist. data_dir={str(data_dir)!r} "
                               f"must contain the folder {name}/ with the files: {', '.join(files)}.")
        else:
            path = cache_dir / file
            if not (path.is_file() and file_sha256(path) == sha256):
                path.unlink(missing_ok=True)  # our own cache: a damaged copy is fetched again
                searched = ("" if user_dir is None else
                            f"COURSE_DATA_DIR is set, but {user_dir} has no {file} "
                            f"(expected there: {', '.join(files)}).\n")
                if not download:
                    raise DatasetError(f"{file} is neither in {cache_dir} nor in COURSE_DATA_DIR.\n"
                                       + searched + advice)
                _download(path, sha256, mirrors, searched + advice)
            paths[file] = path
    return paths


def _check_user_file(path, sha256):
    """Return path if its sha256 is the expected one; never modify the user's folder."""
    actual = file_sha256(path)
    if actual != sha256:
        raise DatasetError(f"{path} is corrupt or not the expected file: its sha256 is {actual}, "
                           f"expected {sha256}. Replace it with an intact copy. (This folder, "
                           "from data_dir or COURSE_DATA_DIR, is only read, never modified.)")
    return path


def file_sha256(path):
    """sha256 of a file as a hex string, read in 1 MiB chunks to keep memory small."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _download(dest, sha256, mirrors, advice):
    """Download dest.name from the first mirror that serves the expected bytes.

    Bytes go to <dest>.part, renamed to dest only once the sha256 matches, so an
    interrupted or wrong download never looks like a finished file.
    """
    part = dest.with_name(dest.name + ".part")
    failures = []
    for url in [base + dest.name for base in mirrors]:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(part, "wb") as f:
                size = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=size, unit="B", unit_scale=True, desc=dest.name) as bar:
                    while chunk := response.read(1 << 20):
                        digest.update(chunk)
                        f.write(chunk)
                        bar.update(len(chunk))
            if digest.hexdigest() == sha256:
                part.replace(dest)
                return
            failures.append(f"  {url}: wrong sha256 {digest.hexdigest()} (expected {sha256})")
        except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts: OSError
            failures.append(f"  {url}: {e}")
        finally:
            part.unlink(missing_ok=True)
    raise DatasetError(f"Could not download {dest.name} to {dest.parent}:\n"
                       + "\n".join(failures) + "\n" + advice)


def _read_idx(path, magic, item_shape):
    """Read a gzipped IDX file (MNIST's format) -> uint8 array of shape (n, *item_shape).

    IDX: a big-endian int32 magic number (2051 images, 2049 labels; its last byte
    is the number of dimensions), one int32 per dimension, then the raw bytes.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{path} is not a readable gzip file ({e}). "
                           "Replace it with an intact copy of the original file.") from None
    header = 4 * (2 + len(item_shape))
    fields = struct.unpack(f">{header // 4}i", raw[:header]) if len(raw) >= header else (None,)
    shape = fields[1:]
    if fields[0] != magic or shape[1:] != item_shape or len(raw) != header + math.prod(shape):
        raise DatasetError(f"{path} is not a valid MNIST IDX file: expected magic number {magic} "
                           f"and shape (n, {', '.join(map(str, item_shape))}) in a file of matching "
                           f"size, found header {fields} and {len(raw)} bytes. "
                           "Replace it with an intact copy of the original file.")
    # copy: frombuffer gives a read-only view of the bytes
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


def _read_cifar10_archive(path):
    """Read the six batches straight from the tar.gz -> {batch name: (x, y)}."""
    wanted = {"cifar-10-batches-py/" + batch: batch for batch in CIFAR10_BATCHES}
    batches, where = {}, ""
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:  # one pass in archive order: seeking back in a .gz is slow
                if member.name in wanted and member.isfile():
                    where = f" in {member.name}"
                    batches[wanted[member.name]] = _read_cifar10_batch(tar.extractfile(member))
    except Exception as e:  # noqa: BLE001 -- a damaged archive or pickle can fail in many ways
        raise DatasetError(f"{path} is not a valid CIFAR-10 python archive ({type(e).__name__}"
                           f"{where}: {e}). Replace it with an intact copy "
                           f"of {CIFAR10_FILE}.") from None
    missing = [batch for batch in CIFAR10_BATCHES if batch not in batches]
    if missing:
        raise DatasetError(f"{path} has no cifar-10-batches-py/{', '.join(missing)}. "
                           f"Replace it with an intact copy of {CIFAR10_FILE}.")
    return batches


def _read_cifar10_batch(f):
    """Unpickle one batch: a dict with b'data', a (n, 3072) uint8 array whose rows hold
    1024 red, then 1024 green, then 1024 blue values, and b'labels', n ints.
    Returns x uint8 (n, 32, 32, 3) and y int64 (n,)."""
    # Unpickling can run code stored in the file: that is why the archive's sha256
    # was checked before, and why only the six batch members are ever unpickled.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old pickles make NumPy warn on stderr, harmlessly
        batch = pickle.load(f, encoding="bytes")
    x = np.asarray(batch[b"data"])
    y = np.asarray(batch[b"labels"], dtype=np.int64)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072 or y.shape != (len(x),):
        raise ValueError(f"found data {x.dtype} {x.shape} and labels {y.shape}, "
                         "expected (n, 3072) uint8 and n labels")
    # (n, 3072) -> (n, channel, row, col) -> (n, row, col, channel)
    return np.ascontiguousarray(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)), y
