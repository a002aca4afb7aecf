"""Competence (issue 19): organizations' course types, training records with certificate photos, the tasks
people are given on a site, the site's requirements, and the reminder steps sent before a record expires."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class CourseType(pw.Model):
        id = pw.AutoField()
        organization = pw.ForeignKeyField(column_name='organization_id', field='id',
                                          model=migrator.orm['organization'], on_delete='CASCADE')
        key = pw.CharField(max_length=40, unique=True)
        names = pw.TextField()
        validity_months = pw.IntegerField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "course_type"

    @migrator.create_model
    class TrainingRecord(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        payload_hash = pw.CharField(max_length=64)
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        course = pw.CharField(max_length=40, index=True)
        taken_on = pw.DateField()
        expires_on = pw.DateField(null=True)
        expiry_overridden = pw.BooleanField(default=False)
        issuer = pw.CharField(max_length=200, default='')
        certificate_number = pw.CharField(max_length=80, default='')
        status = pw.CharField(max_length=10, default='pending', index=True)
        reject_reason = pw.TextField(default='')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')
        decided_at = pw.DateTimeField(null=True)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        phone_at = pw.DateTimeField(null=True)
        verneombud_may_see = pw.BooleanField(default=False)

        class Meta:
            table_name = "training_record"
            indexes = [(('user', 'course', 'status', 'expires_on'), False)]

    @migrator.create_model
    class CertificatePhoto(pw.Model):
        id = pw.AutoField()
        record = pw.ForeignKeyField(column_name='record_id', field='id', model=migrator.orm['training_record'],
                                    on_delete='CASCADE')
        side = pw.CharField(max_length=5)
        digest = pw.CharField(max_length=64)
        width = pw.IntegerField()
        height = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "certificate_photo"
            indexes = [(('record', 'side'), True)]

    @migrator.create_model
    class PersonTask(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        task = pw.CharField(max_length=40)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "person_task"
            indexes = [(('site', 'user', 'task'), True)]

    @migrator.create_model
    class SiteRequirement(pw.Model):
        id = pw.AutoField()
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        course = pw.CharField(max_length=40)
        task = pw.CharField(max_length=40, default='')
        blocks = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "site_requirement"
            indexes = [(('site', 'course', 'task'), True)]

    @migrator.create_model
    class CompetenceReminder(pw.Model):
        id = pw.AutoField()
        record = pw.ForeignKeyField(column_name='record_id', field='id', model=migrator.orm['training_record'],
                                    on_delete='CASCADE')
        step = pw.CharField(max_length=5)
        expires_on = pw.DateField()
        sent_at = pw.DateTimeField()

        class Meta:
            table_name = "competence_reminder"
            indexes = [(('record', 'step', 'expires_on'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('competence_reminder')
    migrator.remove_model('site_requirement')
    migrator.remove_model('person_task')
    migrator.remove_model('certificate_photo')
    migrator.remove_model('training_record')
    migrator.remove_model('course_type')
