"""What runs inside nbgrader while it grades (wired in by nbgrader_config.py), one piece per file:

- preflight.py: before the first submission (Autograde.pre_convert_hook), the sandbox and the data;
- check_submission.py: sanitize, CheckSubmission (before nbgrader's DeduplicateIds and OverwriteCells);
- guarded_execute.py: execute, GuardedExecute (nbgrader's Execute in a sandbox, with the guard);
  sandbox.py: the bubblewrap kernel manager it starts kernels with (course/integrity/guard.py is the code it
  sends into each kernel);
- withhold_for_review.py: after SaveAutoGrades, the tests course/integrity/review.py withholds wait for a person;
- late_penalty.py: autograde and feedback, ApplyLatePenalty (the due date, and the late penalty on the score
  with the hand grades);
- scrub_feedback.py: feedback, ScrubFeedback (no hidden-test source in what students see);
- lms_exchange.py: nbgrader's exchange, replaced: notebooks travel through the LMS (publish, intake).
"""
