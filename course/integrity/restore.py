"""The instructor's cells put back into a submission before it is graded, the same way on both editions.

A submission is graded on the instructor's version of every provided (locked) cell: a student may delete one,
duplicate one, paste a cell's id onto another, or edit one. `restore` works on any notebook whose instructor cells
carry an id in their metadata: nbgrader's (`metadata["nbgrader"]["grade_id"]`, CheckSubmission) or the otter
edition's (`metadata["course"]["id"]`, its plugin). For each id only the last copy keeps it (earlier copies and ids
the instructor never gave become ordinary cells), that copy gets the instructor's metadata back, and each missing
locked cell is put back after the instructor cell it followed, with a note saying so. With `overwrite`, an edited
locked cell gets the instructor's source too (nbgrader leaves that to its own OverwriteCells).

Standard library and nbformat only: the otter edition's plugin ships this file.
"""

import copy
import uuid


def restore(nb, reference, *, key, field, overwrite=False):
    """Put the instructor's cells of `reference` back into nb, in place. reference: in notebook order, one dict per
    instructor cell, {"id", "locked", "cell_type", "source"} and optionally "metadata" (the cell's whole metadata:
    given back to the last copy's metadata[key], and to a cell that is put back).

    key, field: where a cell's id lives (metadata[key][field]). Returns what was changed, one line each, for the
    grading log."""
    import nbformat

    def cell_id(cell):
        meta = cell.get("metadata", {}).get(key)
        return meta.get(field) if isinstance(meta, dict) else None

    def fresh(ref):
        make = nbformat.v4.new_code_cell if ref["cell_type"] == "code" else nbformat.v4.new_markdown_cell
        cell = make(ref["source"])
        cell.metadata.update(copy.deepcopy(ref.get("metadata") or {key: {field: ref["id"]}}))
        cell["id"] = uuid.uuid4().hex[:8]
        return cell

    changes = []
    known = {r["id"]: r for r in reference if r["id"]}
    last = {cell_id(c): i for i, c in enumerate(nb.cells) if cell_id(c) in known}
    for i, cell in enumerate(nb.cells):
        gid = cell_id(cell)
        if gid is None and key not in cell.get("metadata", {}):
            continue
        if gid not in known or last[gid] != i:
            # an earlier copy, or an id the course never gave: graded as an ordinary cell
            del cell.metadata[key]
            changes.append(f"cell {i} ({gid}): {'a later copy is graded' if gid in known else 'not in the master'}; "
                           "graded as an ordinary cell")
            continue
        ref = known[gid]
        edited = cell.cell_type != ref["cell_type"] or cell.source != ref["source"]
        if overwrite and ref["locked"] and edited:
            nb.cells[i] = fresh(ref)
            changes.append(f"cell {i} ({gid}): edited; the instructor's version is graded")
        elif ref.get("metadata") and key in ref["metadata"]:
            cell.metadata[key] = copy.deepcopy(ref["metadata"][key])
    present = {cell_id(c) for c in nb.cells}
    anchor = None  # the latest instructor cell found in nb
    for ref in reference:
        if ref["locked"] and ref["id"] and ref["id"] not in present:
            where = max((i for i, c in enumerate(nb.cells) if cell_id(c) == anchor), default=-1) + 1
            note = nbformat.v4.new_markdown_cell(f"*The autograder put back the next cell ({ref['id']}): it was "
                                                 "missing from the submission.*")
            nb.cells[where:where] = [note, fresh(ref)]
            present.add(ref["id"])
            changes.append(f"cell {ref['id']}: missing; put back from the master")
        if ref["id"] in present:
            anchor = ref["id"]
    return changes
