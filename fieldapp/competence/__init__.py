"""Competence (issue 19): training records, certificates that expire, site requirements and reminders."""
