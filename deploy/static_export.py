"""Copy static/ under its content-hashed names for Caddy (deploy/fieldapp-edge.caddy), after every release:

    /srv/fieldapp/.venv/bin/python deploy/static_export.py /srv/fieldapp/static-hashed

Caddy serves /static/<name>.<10 hex>.<ext> from that folder, cached for a year, only when the exact name is
there; any other hashed name goes to the app, which serves the current file under its true hash or answers
404. Old releases' files are kept, so phones still on the previous pages get theirs. Makes no instance.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp.config import PROJECT_ROOT  # noqa: E402 - after the path above
from fieldapp.static_files import export_hashed  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    count = export_hashed(PROJECT_ROOT / "static", argv[1])
    print(f"{count} hashed static files written to {Path(argv[1], 'static')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
