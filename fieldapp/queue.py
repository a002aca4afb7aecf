"""The huey instance: SQLite in the instance folder by default, Redis when REDIS_URL is set."""
import os

from huey import RedisHuey, SqliteHuey

from .config import instance_path


def make_huey():
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("fieldapp", url=redis_url)
    folder = instance_path()
    os.makedirs(folder, exist_ok=True)
    # Its own file: the queue's writes never wait on the app's database lock.
    return SqliteHuey("fieldapp", filename=os.path.join(folder, "huey.db"))


huey = make_huey()
