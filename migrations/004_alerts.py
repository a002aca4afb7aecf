"""Alerts with web push: device subscriptions, alerts, and each recipient's delivery and acknowledgement."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class PushSubscription(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        endpoint = pw.CharField(max_length=1000, unique=True)
        p256dh = pw.CharField(max_length=100)
        auth = pw.CharField(max_length=40)
        user_agent = pw.CharField(max_length=300, default='')
        created_at = pw.DateTimeField()
        last_success_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "push_subscription"

    @migrator.create_model
    class Alert(pw.Model):
        id = pw.AutoField()
        uuid = pw.UUIDField(unique=True)
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], on_delete='CASCADE')
        sender = pw.ForeignKeyField(column_name='sender_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        level = pw.CharField(max_length=20)
        template = pw.CharField(max_length=30, null=True)
        area = pw.CharField(max_length=200, default='')
        title = pw.CharField(max_length=120, default='')
        body = pw.TextField(default='')
        audience = pw.CharField(max_length=20, default='all')
        ack_required = pw.BooleanField(default=True)
        ack_deadline = pw.DateTimeField(null=True)
        report = pw.ForeignKeyField(column_name='report_id', field='id', model=migrator.orm['report'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField(index=True)
        escalated_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "alert"

    @migrator.create_model
    class AlertRecipient(pw.Model):
        id = pw.AutoField()
        alert = pw.ForeignKeyField(column_name='alert_id', field='id', model=migrator.orm['alert'], on_delete='CASCADE')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        role = pw.CharField(max_length=20)
        delivered_at = pw.DateTimeField(null=True)
        received_at = pw.DateTimeField(null=True)
        seen_at = pw.DateTimeField(null=True)
        acked_at = pw.DateTimeField(null=True)
        ack_uuid = pw.UUIDField(null=True, unique=True)
        escalated_at = pw.DateTimeField(null=True)
        added_by_escalation = pw.BooleanField(default=False)

        class Meta:
            table_name = "alert_recipient"
            indexes = [(('alert', 'user'), True), (('user', 'acked_at'), False)]

    # The escalation task looks for alerts past their deadline that have not been escalated.
    migrator.sql("CREATE INDEX alert_pending_escalation ON alert (ack_deadline) WHERE escalated_at IS NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX alert_pending_escalation")
    migrator.remove_model('alert_recipient')
    migrator.remove_model('alert')
    migrator.remove_model('push_subscription')
