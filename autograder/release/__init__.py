"""Notebooks and release: the instructor and student notebooks made from a spec, released
through nbgrader (to a class or one per student), and the student's self-check."""
