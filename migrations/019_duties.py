"""Who is responsible for what (issue 24): the verneombud register."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class VerneombudTerm(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id', model=orm['organization'],
                                          on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=orm['user'], on_delete='RESTRICT')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=orm['site'], null=True,
                                  on_delete='CASCADE')
        area = pw.CharField(max_length=200, default='')
        role = pw.CharField(max_length=12)
        elected_from = pw.DateField()
        elected_to = pw.DateField(index=True)
        how = pw.CharField(max_length=12)
        notice_on = pw.DateField(null=True)
        regional = pw.BooleanField(default=False)
        reminded_at = pw.DateTimeField(null=True)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['user'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "verneombud_term"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("verneombud_term")
