"""Grading a class: submissions found and read, each run in the sandbox and marked question by
question, copies found, every result recorded in nbgrader's gradebook."""
