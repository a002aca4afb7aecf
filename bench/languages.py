"""What speaking five languages costs a page: the outbox bar's plural forms (templating.outbox_counts, on every
page through base.html) per language, and the whole home page rendered in each language through the test client.

Target: the plural forms under 0.5 ms per page; the home page in Polish, Lithuanian or Ukrainian within 10% of
bokmål. Prints microseconds per call and milliseconds per page.
Usage: python bench/languages.py [--pages 200]
"""
import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.config import LANGUAGE_NAMES  # noqa: E402
from fieldapp.templating import outbox_counts  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        os.environ["FIELDAPP_INSTANCE"] = instance
        os.environ["FIELDAPP_LOCAL_DEV"] = "1"
        from fieldapp.accounts import service as accounts
        from fieldapp.db import database, run_migrations
        from fieldapp.models import Membership, Organization, Site, User, utcnow

        app = create_app()
        with app.app_context(), database.connection_context():
            run_migrations()
            org = Organization.create(name="Bench AS", org_number="923609016")
            site = Site.create(organization=org, name="Bench", address="x", qr_token=uuid.uuid4().hex)
            user = User.create(name="Bench Worker", phone="+4791000001", language_confirmed_at=utcnow())
            Membership.create(user=user, site=site, role="worker")
        print(f"{'language':10} {'plural forms µs':>16} {'home page ms':>13}")
        for code in LANGUAGE_NAMES:
            with app.test_request_context(), force_locale(code):
                outbox_counts()
                start = time.perf_counter()
                for _ in range(args.pages):
                    outbox_counts()
                forms_us = (time.perf_counter() - start) / args.pages * 1e6
            User.update(language=code).where(User.id == user.id).execute()
            client = app.test_client()
            with app.test_request_context():
                token = accounts.start_device_session(User.get_by_id(user.id), "bench")
            with client.session_transaction() as session:
                session["sid"] = token
            assert client.get("/").status_code == 200
            start = time.perf_counter()
            for _ in range(args.pages):
                client.get("/")
            page_ms = (time.perf_counter() - start) / args.pages * 1e3
            print(f"{code:10} {forms_us:16.1f} {page_ms:13.2f}")


if __name__ == "__main__":
    main()
