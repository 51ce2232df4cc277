"""A class of autograd_mlp students who differ the way real ones do, for the similarity report's test and benchmark.

Every graded function exists in several versions written independently (the reference's and three more in
tests/classmates/autograd_mlp/<cell>/<k>.cell, each graded correct when written); an honest student takes one
version of each function, chosen at random. Planted copies of honest students are renamed, reordered or
re-commented (each also reformatted by the rewrite), or carry a bug added; minimal students did only the short
functions everyone writes alike (`add`, `multiply`).
"""

import ast
import random
import re
from pathlib import Path

from checkout import COURSE

from course.cells import grade_id, is_solution
from course.notebooks import cell_by_id
from course.submissions import blank, reference, write_submission

A = "autograd_mlp"
CLASSMATES = Path(__file__).parent / "classmates" / A


def versions():
    """{solution cell: [independently written versions of its whole source]}: the reference's first."""
    ref = reference(COURSE[A])
    out = {}
    for cell in ref.cells:
        if cell.cell_type == "code" and is_solution(cell):
            gid = grade_id(cell)
            out[gid] = [cell.source] + [p.read_text() for p in sorted((CLASSMATES / gid).glob("*.cell"))]
    return out


def student(choice):
    """The release with each solution cell replaced by the chosen version ({cell: source})."""
    nb = blank(COURSE[A])
    for gid, source in choice.items():
        cell_by_id(nb, gid).source = source
    return nb


class Rename(ast.NodeTransformer):
    """Every local name (assigned, looped over or a parameter inside a function) gets another name."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            node.id = self.names[node.id]
        return node

    def visit_arg(self, node):
        if node.arg in self.names:
            node.arg = self.names[node.arg]
        return node


def local_names(tree):
    names = set()
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        names |= {a.arg for a in fn.args.args}
        names |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def renamed(source):
    tree = ast.parse(source)
    names = {n: f"my_{n}_v" for n in local_names(tree)}
    return ast.unparse(Rename(names).visit(tree))


def reordered(source):
    tree = ast.parse(source)
    tree.body = list(reversed(tree.body))  # functions (and statements) of the cell in the reverse order
    return ast.unparse(tree)


def recommented(source):
    lines = ast.unparse(ast.parse(source)).splitlines()
    return "\n".join(f"{line}  # step {i}" if line.strip() and not line.rstrip().endswith(":") else line
                     for i, line in enumerate(lines))


def with_bug(source):
    return re.sub(r"\+=", "=", source, count=1)  # the first += becomes = (a gradient overwritten)


CHANGES = {"renamed": renamed, "reordered": reordered, "recommented": recommented, "buggy": with_bug}


def compose(assignment, honest, copies=(), minimal=0, seed=7):
    """Write a class into the Assignment's submitted/: `honest` students honestNNN, one planted copy per entry of
    `copies` ((change name, index of the honest student copied)) as copy_<change>_<index>, `minimal` students who
    did only add and multiply, and one who handed in the release. Returns {copy: the honest student it copies}."""
    found = versions()
    rng = random.Random(seed)
    choices = {f"honest{i:03d}": {gid: rng.choice(v) for gid, v in found.items()} for i in range(honest)}
    for name, choice in choices.items():
        write_submission(student(choice), assignment, name)
    planted = {}
    for change, i in copies:
        source = f"honest{i:03d}"
        name = f"copy_{change}_{i}"
        write_submission(student({gid: CHANGES[change](src) for gid, src in choices[source].items()}), assignment,
                         name)
        planted[name] = source
    for i in range(minimal):
        write_submission(student({gid: found[gid][i % len(found[gid])] for gid in ("add", "multiply")}),
                         assignment, f"minimal{i}")
    write_submission(blank(COURSE[A]), assignment, "nothing")
    return planted
