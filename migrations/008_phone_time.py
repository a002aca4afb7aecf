"""The phone's clock is a claim: each record made on a phone keeps the phone's time beside the receipt time."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'check_in',
        phone_in_at=pw.DateTimeField(null=True),
        phone_out_at=pw.DateTimeField(null=True),
        out_received_at=pw.DateTimeField(null=True))
    migrator.add_fields(
        'report',
        phone_at=pw.DateTimeField(null=True))
    migrator.add_fields(
        'alert_recipient',
        ack_phone_at=pw.DateTimeField(null=True),
        ack_received_at=pw.DateTimeField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('alert_recipient', 'ack_phone_at', 'ack_received_at')
    migrator.remove_fields('report', 'phone_at')
    migrator.remove_fields('check_in', 'phone_in_at', 'phone_out_at', 'out_received_at')
