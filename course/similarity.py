"""Similarity across a class: every pair of submissions compared on the code the students wrote.

What is compared is each student's own code: the solution cells with the release's lines taken out (the def lines,
docstrings and provided helpers every student got, recognised however they were renamed or reformatted), and any
code cell the student added. Locked cells (tests, provided code) are left out: nbgrader restores them anyway.

The comparison is copydetect's (pure Python, offline; docs/similarity.md says why it over Dolos and JPlag): code
tokenised by pygments with every name, string and comment normalised away, then fingerprinted as the hashes of its
k-grams (k = NOISE normalised characters; all of them, not winnowed: a class's code is small). Renamed variables,
changed comments and whitespace change nothing, and reordered functions change only the few k-grams across their
borders. A student's share in a pair is the part of their fingerprints the other has too; the counts come from one
matrix product over the class, so 300 students (44,850 pairs) take seconds. Fingerprints of the release's code
count for nobody, and neither does a passage that a large share of the class wrote alike (MOSS's rule: what many
students write the same way is the idiom, not a copy): short functions everyone writes in the same two lines flag
nobody.

A pair ranks by the larger of its two shares, scaled down when it shares less than `min_tokens` (a short function
two students wrote alike says little), and is flagged from `threshold` on. A flag is a reason to read two notebooks
side by side, never a verdict: the report says so.

Written to reports/<assignment>/: similarity.csv (every pair sharing any passage), similarity.html (pairs ranked,
each linking to similarity/<a>--<b>.html: the two students' code side by side, the shared passages marked, from
copydetect's own comparison of the two).
"""

import ast
import csv
import functools
import io
import json
import keyword
import math
import re
import time
from dataclasses import dataclass, field

from .cells import grade_id, is_locked, is_solution
from .html import render
from .notebooks import read

NOISE = 25  # k: the shortest shared passage that counts, in normalised characters (copydetect's noise threshold)
THRESHOLD = 0.7  # flag a pair whose score (the larger share, scaled down below MIN_TOKENS) reaches this
MIN_TOKENS = 400  # shared fingerprints (about normalised characters) under which a pair's score is scaled down
COMMON_SHARE = 0.5  # a passage found in this share of the class or more (and in at least COMMON_MIN students)
COMMON_MIN = 6  # is an idiom, not a copy: it counts for nobody
SHOWN = 50  # pairs with a side-by-side page beyond the flagged ones (the closest unflagged pairs)


@dataclass
class Pair:
    a: str
    b: str
    share_a: float  # share of a's own code found in b's
    share_b: float
    tokens: int  # fingerprints shared: about the normalised characters of code they have in common
    score: float = 0.0  # what the pair ranks by (compare)
    flagged: bool = False

    @property
    def page(self):
        return f"similarity/{self.a}--{self.b}.html"


@dataclass
class SimilarityReport:
    assignment: str
    code: dict  # student -> the own code compared (text)
    pairs: list  # Pair, ranked (most similar first); only pairs that share a passage
    skipped: dict = field(default_factory=dict)  # student -> why not compared
    seconds: float = 0.0
    ignored: set = field(default_factory=set)  # fingerprints that count for nobody: the release's, the idioms
    threshold: float = THRESHOLD
    min_tokens: int = MIN_TOKENS

    @property
    def flagged(self):
        return [p for p in self.pairs if p.flagged]

    @property
    def flagged_students(self):
        return sorted({s for p in self.flagged for s in (p.a, p.b)})

    def lines(self):
        n = len(self.code)
        out = [(f"{self.assignment}: {n} submissions compared ({n * (n - 1) // 2} pairs) in {self.seconds:.1f} s; "
               f"{len(self.flagged)} pair(s) flagged")]
        out += [f"  {p.a} ~ {p.b}: {p.share_a:.0%} / {p.share_b:.0%} of their code shared" for p in self.flagged]
        out += [f"  not compared: {s}: {why}" for s, why in sorted(self.skipped.items())]
        return out


KEYWORDS = frozenset(keyword.kwlist) | {"print", "range", "len"}
LEXEME = re.compile(r"""(?P<s>[rRbBuUfF]{0,2}(?:'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?))|(?P<c>\#.*)"""
                    r"|(?P<n>[A-Za-z_]\w*)|(?P<x>[\s()]+)")


def _key(line):
    """A line as the comparison sees it, near enough: names V, strings S, no comments, spacing or parentheses (which
    reformatting adds and drops)."""
    def lexeme(m):
        if m["s"] is not None:
            return "S"
        if m["n"] is not None:
            return m["n"] if m["n"] in KEYWORDS else "V"
        return ""

    return LEXEME.sub(lexeme, line)


def _line_keys(source):
    return [_key(line) for line in source.splitlines()]


def _statements(source):
    """(line spans of the statements, docstring lines): a compound statement's span is its header."""
    spans, docstrings = [], set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return spans, docstrings
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.stmt):
            end = body[0].lineno - 1 if isinstance(body, list) and body else node.end_lineno
            spans.append((node.lineno - 1, max(end, node.lineno)))
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings |= set(range(first.lineno - 1, first.end_lineno))
    return spans, docstrings


def passages(source, provided):
    """The student's passages of a cell: runs of lines whose key is not in `provided` (given_keys), a given line or
    a docstring between two lines ending a run; blank lines and comment-only lines belong to none."""
    keys = _line_keys(source)
    _, docstrings = _statements(source)
    runs, run = [], []
    for i, line in enumerate(source.splitlines()):
        if not keys[i]:
            continue
        if i in docstrings or keys[i] in provided:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(line)
    return [*runs, run] if run else runs


@functools.lru_cache(maxsize=1024)
def given_keys(source):
    """The keys of the lines of code the release gave in a cell, and of each of its statements written on one line
    (a reformatted copy joins a statement the release spread over several lines)."""
    keys = _line_keys(source)
    spans, _ = _statements(source)
    return frozenset({k for k in keys if k} | {"".join(keys[a:b]) for a, b in spans if b - a > 1})


def own_code(nb, release):
    """The code a student wrote in a notebook, as one text: per solution cell (matched to the release by grade id),
    its passages (the lines that are not the release's, docstrings, comments and spacing aside); per code cell the
    student added, all of it. Cells the release locks (tests, provided code) are not the student's. Passages are
    separated by a blank line, cells by a header comment: fingerprints never span two passages, so the order of
    functions does not matter."""
    released = {grade_id(c): c for c in release.cells if grade_id(c)}
    given = set().union(*(given_keys(c.source) for c in release.cells if c.cell_type == "code"))
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell)
        theirs = released.get(gid)
        if theirs is not None and (is_locked(theirs) or not is_solution(theirs)):
            continue
        provided = given_keys(theirs.source) if theirs is not None else given
        runs = passages(cell.source, provided)
        if runs:
            parts.append(f"# --- {gid or 'a cell of their own'} ---\n" + "\n\n".join("\n".join(r) for r in runs))
    return "\n\n".join(parts) + "\n" if parts else ""


def release_code(release):
    return "\n".join(c.source for c in release.cells if c.cell_type == "code") + "\n"


def fingerprints(text):
    """The set of hashes of every k-gram (k = NOISE) of each passage of the code (own_code separates them by blank
    lines) as copydetect normalises it (names, strings and comments away). Python's string hash: comparable within
    one process only."""
    from copydetect.utils import filter_code, hashed_kgrams

    out = set()
    for passage in re.split(r"\n\s*\n", text):
        filtered, _ = filter_code(passage, "code.py")
        out.update(hashed_kgrams(filtered, NOISE).tolist())
    return out


def compare(code, release_text, threshold=THRESHOLD, min_tokens=MIN_TOKENS):
    """[Pair] for the {student: own code} `code`, ranked; and the fingerprints left out (the release's and the class's
    idioms). A share is the part of one student's fingerprints found in the other's; the counts of fingerprints
    each pair shares come from one product of the class's (student x fingerprint) matrix."""
    import numpy as np

    ignored = fingerprints(release_text)
    prints = {s: fingerprints(text) - ignored for s, text in code.items()}
    held = {}  # fingerprint -> how many students have it
    for fp in prints.values():
        for h in fp:
            held[h] = held.get(h, 0) + 1
    common_at = max(COMMON_MIN, math.ceil(COMMON_SHARE * len(prints)))
    common = {h for h, n in held.items() if n >= common_at}
    ignored |= common
    students = sorted(prints)
    for s in students:
        prints[s] -= common
    column = {h: i for i, h in enumerate(h for h, n in held.items() if 2 <= n < common_at)}  # shared by some
    shared = np.zeros((len(students), len(students)), dtype=np.float64)
    step = 1 << 15  # fingerprints per block of the product: memory stays small for any class
    columns = [[column[h] for h in prints[s] if h in column] for s in students]
    for lo in range(0, len(column), step):
        block = np.zeros((len(students), min(step, len(column) - lo)), dtype=np.float32)
        for row, cols in enumerate(columns):
            mine = [c - lo for c in cols if lo <= c < lo + step]
            block[row, mine] = 1.0
        shared += block @ block.T
    sizes = np.array([max(len(prints[s]), 1) for s in students], dtype=np.float64)
    pairs = []
    for i, j in zip(*np.nonzero(np.triu(shared, k=1)), strict=True):
        tokens = int(shared[i, j])
        share_a, share_b = float(tokens / sizes[i]), float(tokens / sizes[j])
        # The larger share, scaled down when little code is shared: two students who wrote only a short function
        # the same way share all of it, which says little.
        score = max(share_a, share_b) * min(1.0, tokens / min_tokens)
        pairs.append(Pair(str(students[i]), str(students[j]), share_a, share_b, tokens, score, score >= threshold))
    pairs.sort(key=lambda p: (-p.score, -p.tokens, p.a, p.b))
    return pairs, ignored


def load(path):
    """A submitted notebook, read without nbformat's validation (the comparison needs the cells' code and metadata
    only, and validation is most of the time for a class of hundreds)."""
    import nbformat

    nb = nbformat.from_dict(json.loads(path.read_text(encoding="utf-8")))
    for cell in nb.cells:
        if isinstance(cell.get("source"), list):
            cell.source = "".join(cell.source)
    return nb


def similarity(assignment, students=None, threshold=THRESHOLD, min_tokens=MIN_TOKENS):
    """The SimilarityReport of an Assignment's submitted notebooks (or of `students`)."""
    from .grading import submitted_students

    start = time.perf_counter()
    release = read(assignment.release_path)
    code, skipped = {}, {}
    for student, path in submitted_students(assignment).items():
        if students is not None and student not in students:
            continue
        if path is None:
            skipped[student] = "no notebook in the submission folder"
            continue
        try:
            text = own_code(load(path), release)
        except Exception as exc:  # noqa: BLE001 (a damaged notebook is reported, the others compared)
            skipped[student] = f"not readable as a notebook ({type(exc).__name__}: {exc})"
            continue
        if text:
            code[student] = text
        else:
            skipped[student] = "no code of their own (the release as it was handed out)"
    pairs, ignored = compare(code, release_code(release), threshold, min_tokens)
    return SimilarityReport(assignment.name, code, pairs, skipped, time.perf_counter() - start, ignored, threshold,
                            min_tokens)


def write_csv(report, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_a", "student_b", "score", "share_of_a", "share_of_b", "shared_tokens", "flagged"])
        for p in report.pairs:
            w.writerow([p.a, p.b, f"{p.score:.3f}", f"{p.share_a:.3f}", f"{p.share_b:.3f}", p.tokens,
                        "yes" if p.flagged else ""])


def flagged_students(assignment):
    """{student: [the students they are flagged with]} from reports/<a>/similarity.csv ({} when not run)."""
    path = assignment.reports / "similarity.csv"
    if not path.is_file():
        return {}
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["flagged"] == "yes":
                out.setdefault(row["student_a"], []).append(row["student_b"])
                out.setdefault(row["student_b"], []).append(row["student_a"])
    return out


def write_report(report, folder, shown=SHOWN):
    """similarity.csv, similarity.html and a side-by-side page per flagged pair (and the `shown` closest others)."""
    import numpy as np
    from copydetect import CodeFingerprint, compare_files
    from copydetect.utils import highlight_overlap

    folder.mkdir(parents=True, exist_ok=True)
    write_csv(report, folder / "similarity.csv")
    pages = folder / "similarity"
    if pages.is_dir():
        for old in pages.glob("*.html"):
            old.unlink()
    pages.mkdir(exist_ok=True)
    listed = report.flagged + [p for p in report.pairs if not p.flagged][:shown]
    ignored = np.array(sorted(report.ignored), dtype=np.int64)
    for p in listed:
        _, _, slices = compare_files(*(CodeFingerprint("code.py", NOISE, 1, ignored, fp=io.StringIO(report.code[s]))
                                       for s in (p.a, p.b)))
        sides = []
        for student, marks in zip((p.a, p.b), slices, strict=True):
            marked, _ = highlight_overlap(report.code[student], marks, "<mark>", "</mark>", escape_html=True)
            sides.append((student, marked))
        (folder / p.page).write_text(render("similarity_pair.html.j2", assignment=report.assignment, pair=p,
                                            sides=sides))
    html = render("similarity.html.j2", report=report, listed=listed, common_share=COMMON_SHARE,
                  common_min=COMMON_MIN)
    (folder / "similarity.html").write_text(html)
    return folder / "similarity.html"
