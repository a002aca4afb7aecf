"""Automatic report alerts store the report's codes, not Norwegian words (issue 15).

Until now report_high/report_injury stored "Elektrisk (Farlig forhold)" and report_closed "Elektrisk" in
`area`, so an English reader read Norwegian. From now on they store "electrical/hazard" and "electrical",
worded in each reader's language (alerts.service.report_words). This turns the stored words of alerts whose
report still exists into those codes; an alert whose report is gone keeps its words and shows them as before.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("UPDATE alert SET area = (SELECT report.category || '/' || report.kind FROM report "
                 "WHERE report.id = alert.report_id) "
                 "WHERE template IN ('report_high', 'report_injury') AND report_id IS NOT NULL")
    migrator.sql("UPDATE alert SET area = (SELECT report.category FROM report WHERE report.id = alert.report_id) "
                 "WHERE template = 'report_closed' AND report_id IS NOT NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    # The words were Norwegian labels; codes still read correctly (as words) in the old code, so leave them.
    pass
