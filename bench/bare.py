"""The floor: a bare peewee + Jinja page of 50 rows (no sessions, roles or layout), served the same way."""
import os
import tempfile

from flask import Flask
from peewee import CharField, Model, SqliteDatabase

db = SqliteDatabase(os.path.join(tempfile.mkdtemp(prefix="fieldapp-bare-"), "bare.db"),
                    pragmas={"journal_mode": "wal"}, check_same_thread=False)


class Person(Model):
    name = CharField()
    phone = CharField()
    employer = CharField()
    card = CharField(null=True)

    class Meta:
        database = db


db.create_tables([Person], safe=True)
with db.atomic():
    if not Person.select().exists():
        for i in range(50):
            Person.create(name=f"Arbeider {i:02d}", phone=f"+47400{i:05d}", employer="Fjordbygg AS", card=f"HMS{i:06d}")

app = Flask(__name__)
PAGE = app.jinja_env.from_string("""<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>People</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><main><h1>People</h1><ul class="rows">
{% for p in people %}<li class="row person"><a href="/people/{{ p.id }}"><strong>{{ p.name }}</strong><br>
<span class="muted">{{ p.employer }} · {{ p.phone }} · {{ p.card }}</span></a></li>
{% endfor %}</ul></main></body></html>""")


@app.get("/")
def people():
    with db.connection_context():
        return PAGE.render(people=list(Person.select().order_by(Person.name)))
