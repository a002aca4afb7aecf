"""Flask commands: migrate, create-user, demo-data, verify-audit, audit-anchor, audit-public-key,
vapid-public-key, backup, restore, storage-check."""
import click
from flask import current_app
from flask.cli import with_appcontext

from . import anchors, audit, backup, demo, storage
from . import keys as instance_keys
from .accounts import service as accounts
from .db import database, run_migrations
from .models import Membership, ROLES, Site, User
from .sites import service as sites


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply the migrations that this database has not had yet."""
    with database.connection_context():
        done = run_migrations()
    click.echo(f"migrations applied: {len(done or [])}")
    instance_keys.check(current_app)  # the first start records the keys' fingerprints; a node with others stops here


@click.command("demo-data")
@with_appcontext
def demo_data_command():
    """Load the demo organization, sites and people (safe to run again)."""
    with database.connection_context():
        created = demo.load()
    click.echo(f"demo data ready ({created} people created)")
    click.echo(f"demo logins (PIN {demo.DEMO_PIN} for all):")
    for phone, name, roles in demo.LOGINS:
        click.echo(f"  {phone}  {name:<15} {', '.join(sorted(set(roles.values())))}")


@click.command("create-user")
@with_appcontext
@click.option("--name", required=True, help="Full name.")
@click.option("--phone", required=True, help="Mobile number: 8 digits, or + and the country code.")
@click.option("--password", prompt="PIN or password", hide_input=True, confirmation_prompt=True,
              help="A PIN of 6 to 12 digits or a password of at least 10 characters.")
@click.option("--organization", "org_name", required=True, help="The employer's name.")
@click.option("--org-number", required=True, help="The employer's 9-digit organisation number.")
@click.option("--org-admin/--no-org-admin", default=True, show_default=True,
              help="May create sites for the organization (the employer's HMS lead).")
@click.option("--site", "site_name", help="Put the person on this site (created if new).")
@click.option("--site-address", help="Address for a new site.")
@click.option("--role", type=click.Choice(ROLES), default="manager", show_default=True)
def create_user_command(name, phone, password, org_name, org_number, org_admin, site_name, site_address, role):
    """Create a person who can sign in at once (the first manager of a new installation)."""
    normalized, reason = accounts.mobile_number(phone)
    if normalized is None:
        words = {"not_phone": "not a phone number", "not_mobile": "not a mobile number"}[reason]
        raise click.BadParameter(words, param_hint="--phone")
    problem = accounts.secret_problem(password)
    if problem:
        raise click.BadParameter(problem.replace("_", " "), param_hint="--password")
    if not sites.org_number_valid(org_number):
        raise click.BadParameter("not a valid organisation number (mod-11)", param_hint="--org-number")
    with database.connection_context(), database.atomic():
        if User.get_or_none(User.phone == normalized):
            raise click.ClickException(f"a person with phone {normalized} exists already")
        org = sites.get_or_create_organization(None, org_name, org_number)
        user = User.create(name=name, phone=normalized, employer=org, is_org_admin=org_admin,
                           password_hash=accounts.hash_secret(password))
        audit.record(None, "user.create", "user", user.id, after=audit.snapshot(user, sites.USER_FIELDS))
        if site_name:
            site = Site.get_or_none((Site.name == site_name) & (Site.organization == org))
            if site is None:
                if not site_address:
                    raise click.BadParameter("a new site needs --site-address", param_hint="--site-address")
                site = Site.create(organization=org, name=site_name, address=site_address,
                                   qr_token=sites.new_qr_token())
                audit.record(None, "site.create", "site", site.id, after=audit.snapshot(site, sites.SITE_FIELDS))
            membership = Membership.create(user=user, site=site, role=role)
            audit.record(None, "membership.create", "membership", membership.id,
                         after={"user": user.id, "site": site.id, "role": role})
    click.echo(f"created {name} ({normalized}); sign in with that number and the PIN/password")


@click.command("verify-audit")
@with_appcontext
@click.option("--anchors", "anchor_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An anchors.jsonl to check against (repeatable; e.g. the copy kept on another machine). "
                   "Default: the one in AUDIT_ANCHOR_DIR.")
@click.option("--public-key", "public_key_files", multiple=True, type=click.File("rb"),
              help="PEM file of a public key that signs anchors (repeatable). Default: this installation's.")
def verify_audit_command(anchor_files, public_key_files):
    """Check the audit log's hash chain and compare it with the signed anchors kept outside the database.

    Exit 0 when everything holds; 1 when the chain is broken, rows were deleted from the end
    (truncation), history was rewritten, an anchor's signature is bad, the log has events but no anchors,
    or the newest anchor is older than anchors.STALE_HOURS. Each finding is printed.
    """
    try:
        keys = [anchors.load_public_key(f.read()) for f in public_key_files] or \
            [anchors.signing_key().public_key()]
    except ValueError as exc:
        raise click.ClickException(f"cannot read the public key: {exc}")
    paths = list(anchor_files) or [anchors.anchor_path()]
    with database.connection_context():
        found = anchors.verify(paths, keys)
    if found.chain_broken_at is not None:
        click.echo(f"audit chain broken at event {found.chain_broken_at} (checked {found.chain_checked})",
                   err=True)
    else:
        click.echo(f"audit chain intact: {found.count} events")
    for path in found.missing_files:
        click.echo(f"no anchors at {path}: rows deleted from the end or a recomputed chain cannot be seen "
                   "without them", err=True)
    for label, messages in (("TRUNCATED", found.truncated), ("REWRITTEN", found.rewritten),
                            ("BAD SIGNATURE", found.bad_signatures), ("STALE", found.stale)):
        for message in messages[:20]:
            click.echo(f"{label}: {message}", err=True)
        if len(messages) > 20:
            click.echo(f"{label}: ... and {len(messages) - 20} more", err=True)
    if found.newest is not None:
        since = found.count - found.newest.body["count"]
        click.echo(f"anchors: {found.anchors_valid} signed anchors checked; the newest is of "
                   f"{found.newest.body['at']} at event {found.newest.body['head_id']}"
                   + (f" ({since} events since)" if since > 0 else ""))
    if not found.ok:
        problems = [name for name, bad in (("chain broken", found.chain_broken_at is not None),
                                           ("truncated", found.truncated), ("rewritten", found.rewritten),
                                           ("bad signatures", found.bad_signatures),
                                           ("stale anchors", found.stale),
                                           ("no anchors to check against", found.unanchored)) if bad]
        raise click.ClickException("the audit log does not verify: " + ", ".join(problems))


@click.command("audit-anchor")
@with_appcontext
def audit_anchor_command():
    """Anchor the audit log's head now (as the worker does every 10 minutes), e.g. before a backup."""
    with database.connection_context():
        anchor = anchors.write("manual")
    click.echo(f"anchored event {anchor['head_id']} ({anchor['count']} events) in {anchors.anchor_path()}")


@click.command("audit-public-key")
@with_appcontext
def audit_public_key_command():
    """Print the public key of the anchors' signing key (PEM), for `verify-audit --public-key` elsewhere."""
    click.echo(anchors.public_key_pem(anchors.signing_key()), nl=False)


@click.command("vapid-public-key")
@with_appcontext
def vapid_public_key_command():
    """Print the Web Push public key (the browser's applicationServerKey)."""
    click.echo(current_app.config["VAPID_PUBLIC_KEY"])


@click.command("backup")
@with_appcontext
@click.option("--to", "target", type=click.Path(file_okay=False), help="Folder for the archive (default BACKUP_DIR).")
@click.option("--keep", type=int, help="Archives kept in that folder, newest first (default BACKUP_KEEP).")
def backup_command(target, keep):
    """Back up the SQLite database, uploads (local photo storage) and instance keys into one archive."""
    try:
        path = backup.make(current_app, target, keep)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"backup written: {path} ({path.stat().st_size} bytes)")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def restore_command(archive):
    """Restore an archive of `flask backup` onto this empty instance, then verify the audit log.

    Exit 1 when the archive is damaged, the instance is not empty, or the audit chain does not verify.
    """
    try:
        found = backup.restore(current_app, archive)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"restored {archive}")
    if found.chain_broken_at is not None:
        raise click.ClickException(f"audit chain broken at event {found.chain_broken_at}")
    problems = found.truncated + found.rewritten + found.bad_signatures
    for message in problems[:20]:
        click.echo(f"AUDIT: {message}", err=True)
    for message in found.stale[:1]:
        click.echo(f"note: {message} (normal for an older backup)")
    if problems:
        raise click.ClickException("the audit anchors do not match the restored log")
    click.echo(f"audit chain intact: {found.count} events")


@click.command("storage-check")
@with_appcontext
def storage_check_command():
    """Check that the photo store can be used (the bucket exists, the credentials work); exit 1 when not.

    Run it before starting a node: a node with a wrong bucket or key would answer every photo with 503."""
    ok, message = storage.check(current_app)
    if not ok:
        raise click.ClickException(message)
    click.echo(message)


def init_app(app):
    for command in (migrate_command, demo_data_command, create_user_command, verify_audit_command,
                    audit_anchor_command, audit_public_key_command, vapid_public_key_command,
                    backup_command, restore_command, storage_check_command):
        app.cli.add_command(command)
