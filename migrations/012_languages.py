"""Every worker in their own language (issue 17).

- equipment.names: an organization's own equipment is named per language in one JSON object
  ({"nb": "Sveisemaske", "pl": "Maska spawalnicza"}), so a new language needs no migration. The old
  name_nb/name_en columns are copied into it, then dropped.
- user.language_confirmed_at: when the person confirmed their language (first sign-in or the profile);
  null: not yet, so the next sign-in asks, pre-selected from the browser.
- alert.language and alert.texts: a free-text alert's own language, and the sender's texts in other languages
  ({"pl": {"title": ..., "body": ...}}).
"""
import json

import peewee as pw
from peewee_migrate import Migrator


def _names_from_columns(database):
    rows = database.execute_sql("SELECT id, name_nb, name_en FROM equipment").fetchall()
    for item_id, name_nb, name_en in rows:
        names = {code: text for code, text in (("nb", name_nb), ("en", name_en)) if text}
        database.execute_sql(database.param.join(("UPDATE equipment SET names = ", " WHERE id = ", "")),
                             (json.dumps(names, ensure_ascii=False), item_id))


def _columns_from_names(database):
    rows = database.execute_sql("SELECT id, names FROM equipment").fetchall()
    for item_id, text in rows:
        names = json.loads(text) if text else {}
        database.execute_sql(database.param.join(
            ("UPDATE equipment SET name_nb = ", ", name_en = ", " WHERE id = ", "")),
            ((names.get("nb") or "")[:80] or None, (names.get("en") or "")[:80] or None, item_id))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('equipment', names=pw.TextField(default='{}'))
    if not fake:
        migrator.run(_names_from_columns, database)
    migrator.remove_fields('equipment', 'name_nb', 'name_en')
    migrator.add_fields('user', language_confirmed_at=pw.DateTimeField(null=True))
    migrator.add_fields('alert', language=pw.CharField(max_length=5, null=True), texts=pw.TextField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('alert', 'language', 'texts')
    migrator.remove_fields('user', 'language_confirmed_at')
    migrator.add_fields('equipment', name_nb=pw.CharField(max_length=80, null=True),
                        name_en=pw.CharField(max_length=80, null=True))
    if not fake:
        migrator.run(_columns_from_names, database)
    migrator.remove_fields('equipment', 'names')
