"""Accounts belong to an organization; invitations for people of another organization.

Existing people get an owning organization: an org admin their employer (the organization they run),
anyone else the organization of the site they were first put on (the one that created the account),
and people on no site their employer. Until this migration any manager could reset anyone's PIN, so the
first site is the best record there is of who made the account.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "user",
        organization=pw.ForeignKeyField(column_name="organization_id", field="id", model=migrator.orm["organization"],
                                        null=True, on_delete="RESTRICT"),
    )

    @migrator.create_model
    class Invitation(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        role = pw.CharField(max_length=20)
        invited_by = pw.ForeignKeyField(column_name='invited_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "invitation"
            indexes = [(('user', 'site'), True)]

    # Plain SQL that SQLite and PostgreSQL both run; the audit log's triggers do not cover "user".
    migrator.sql('UPDATE "user" SET organization_id = employer_id WHERE is_org_admin')
    migrator.sql(
        'UPDATE "user" SET organization_id = (SELECT s.organization_id FROM membership m'
        ' JOIN site s ON s.id = m.site_id WHERE m.user_id = "user".id ORDER BY m.created_at, m.id LIMIT 1)'
        ' WHERE organization_id IS NULL')
    migrator.sql('UPDATE "user" SET organization_id = employer_id WHERE organization_id IS NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("invitation")
    migrator.remove_fields("user", "organization")
