"""The inspector's pack's thumbnails with an S3 store that hangs (issue 24's attack: 281 s for one pack).

Reads 30 thumbnails from a store whose every read blocks for `--hang` seconds (as a hanging S3 store until the
client's timeouts), and prints how long fieldapp.duties.pack.fetch_thumbnails took and how many it got. The
target: no more than THUMB_BUDGET_SECONDS (5 s) plus a little, whatever the store does.

    /work/main/.venv/bin/python -m bench.pack_thumbs [--hang 30] [--photos 30]
"""
import argparse
import threading
import time

from fieldapp.duties import pack


class Hanging:
    def __init__(self, hang):
        self.hang, self.release = hang, threading.Event()

    def read(self, digest, thumb=False, ext="jpg"):
        self.release.wait(self.hang)
        raise FileNotFoundError(digest)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hang", type=float, default=30.0)
    parser.add_argument("--photos", type=int, default=30)
    args = parser.parse_args()
    store = Hanging(args.hang)
    start = time.perf_counter()
    got = pack.fetch_thumbnails(store, [f"{i:064x}" for i in range(args.photos)])
    took = time.perf_counter() - start
    store.release.set()
    print(f"{args.photos} thumbnails, store hanging {args.hang:.0f} s per read: {took:.2f} s, {len(got)} drawn "
          f"(budget {pack.THUMB_BUDGET_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
