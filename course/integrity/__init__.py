"""Own work: what makes a grade measure the student's own code, on both editions (nbgrader and otter-grader).

Standard library only (nbformat where a notebook is changed), so that the otter edition's plugin ships these files
alone in its autograder zip:

- guard.py: the grading guard sent into each grading kernel (snapshot, vault of trusted copies, referee);
- review.py: the scan of the code a student wrote, and which questions wait for a person because of it;
- restore.py: the instructor's cells put back into a submission (deleted, duplicated or edited ones).
"""
