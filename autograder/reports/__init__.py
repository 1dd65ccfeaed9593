"""Reports and exports: the summary, the JSON and the feedback pages of a run, the answer key, the
audit of printed numbers, and the gradebook's exports (CSV, Moodle)."""
