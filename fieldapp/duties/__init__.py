"""Who is responsible for what (issue 24): duties and rights per role, their status from the records, the
verneombud register."""
