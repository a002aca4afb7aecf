"""Push delivery at least once (issue 13) and push endpoints bound to their owner (issue 14).

Each recipient's device gets a push_delivery row written with the alert; a subscription remembers the device
session that posted it, the VAPID key it was made with, and whether the push service refused it.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "push_subscription",
        device_session=pw.ForeignKeyField(column_name='device_session_id', field='id',
                                          model=migrator.orm['device_session'], null=True, on_delete='SET NULL'),
        vapid_key=pw.CharField(max_length=100, null=True),
        broken_at=pw.DateTimeField(null=True),
        broken_status=pw.IntegerField(null=True),
    )

    @migrator.create_model
    class PushDelivery(pw.Model):
        id = pw.AutoField()
        alert = pw.ForeignKeyField(column_name='alert_id', field='id', model=migrator.orm['alert'], on_delete='CASCADE')
        recipient = pw.ForeignKeyField(column_name='recipient_id', field='id', model=migrator.orm['alert_recipient'], on_delete='CASCADE')
        subscription = pw.ForeignKeyField(column_name='subscription_id', field='id', model=migrator.orm['push_subscription'], on_delete='CASCADE')
        round = pw.IntegerField(default=0)
        prefix = pw.CharField(max_length=300, default='')
        created_at = pw.DateTimeField()
        next_attempt_at = pw.DateTimeField()
        attempts = pw.IntegerField(default=0)
        claimed_by = pw.CharField(max_length=32, null=True)
        claimed_until = pw.DateTimeField(null=True)
        sent_at = pw.DateTimeField(null=True)
        gave_up_at = pw.DateTimeField(null=True)
        last_status = pw.IntegerField(null=True)

        class Meta:
            table_name = "push_delivery"
            indexes = [(('recipient', 'subscription', 'round'), True)]

    # What the sender looks for: rows still to send, by when they are due (a partial index stays small).
    migrator.sql("CREATE INDEX push_delivery_due ON push_delivery (next_attempt_at) "
                 "WHERE sent_at IS NULL AND gave_up_at IS NULL")
    migrator.sql("CREATE INDEX push_delivery_alert ON push_delivery (alert_id)")
    migrator.sql("CREATE INDEX push_delivery_subscription ON push_delivery (subscription_id)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX push_delivery_subscription")
    migrator.sql("DROP INDEX push_delivery_alert")
    migrator.sql("DROP INDEX push_delivery_due")
    migrator.remove_model('push_delivery')
    migrator.remove_fields('push_subscription', 'device_session', 'vapid_key', 'broken_at', 'broken_status')
