"""The models say what the migrated schema holds (issue 15): columns, types, nullability and indexes.

Run on both databases: `pytest tests/test_schema.py` and `pytest tests/test_schema.py --database postgres`.
A field added to models.py without a migration (or the other way round) fails here, not in production.
"""
import re
import uuid

from peewee import FIELD, ForeignKeyField

from fieldapp import models
from fieldapp.db import database
from fieldapp.models import BaseModel, CheckIn, ReportEvent, utcnow

FAMILIES = (("char", "varchar"), ("serial", "integer"), ("int", "integer"), ("bool", "boolean"),
            ("timestamp", "datetime"), ("datetime", "datetime"), ("date", "date"), ("time", "time"),
            ("uuid", "uuid"), ("text", "text"), ("real", "float"), ("double", "float"), ("float", "float"))


def family(sql_type):
    """A column type as its family: 'character varying' and 'VARCHAR(200)' are both 'varchar'."""
    text = sql_type.lower()
    return next((name for key, name in FAMILIES if key in text), text)


def all_models():
    return sorted((m for m in vars(models).values()
                   if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel),
                  key=lambda m: m._meta.table_name)


def expected_type(db, field):
    field_type = field.rel_field.field_type if isinstance(field, ForeignKeyField) else field.field_type
    return family(db.field_types.get(field_type) or FIELD.get(field_type, field_type))


def model_columns(db, model):
    return {f.column_name: (expected_type(db, f), bool(f.null) and not f.primary_key)
            for f in model._meta.sorted_fields}


def table_columns(db, table):
    return {c.name: (family(c.data_type), bool(c.null)) for c in db.get_columns(table)}


def model_indexes(model):
    """{(columns, unique, partial)} of the model's fields (index/unique, foreign keys) and declared indexes."""
    found = set()
    for index in model._meta.fields_to_index():
        columns = tuple(e.column_name for e in index._expressions)
        found.add((columns, bool(index._unique), index._where is not None))
    return found


def table_indexes(db, table):
    return {(tuple(i.columns), bool(i.unique), " where " in (i.sql or "").lower().replace("\n", " "))
            for i in db.get_indexes(table)
            if not i.name.startswith("sqlite_autoindex") and not re.search(r"_pkey$", i.name)}


def test_every_model_matches_its_migrated_table(app, db):
    real = database.obj
    tables = set(real.get_tables())
    checked = 0
    for model in all_models():
        table = model._meta.table_name
        assert table in tables, f"{table}: no migration makes it"
        assert table_columns(real, table) == model_columns(real, model), table
        assert table_indexes(real, table) == model_indexes(model), table
        checked += 1
    assert checked >= 15


def test_the_open_check_in_index_is_declared_and_in_the_schema(app, db):
    """The partial unique index of migration 002 is in models.py too, and the database has it."""
    declared = [i for i in CheckIn._meta.fields_to_index() if i._name == "check_in_one_open_per_person"]
    assert len(declared) == 1 and declared[0]._unique and declared[0]._where is not None
    in_db = {i.name: i for i in database.obj.get_indexes("check_in")}
    assert "check_in_one_open_per_person" in in_db
    assert in_db["check_in_one_open_per_person"].unique


def test_the_comparison_sees_a_difference():
    """The check can fail: a column the model lacks, or another type or nullability, is a difference."""
    assert family("character varying") == family("VARCHAR(200)") == "varchar"
    assert family("timestamp without time zone") == family("DATETIME") == "datetime"
    assert {"a": ("text", False)} != {"a": ("text", True)}


def test_json_columns_keep_the_text_written_by_hand_before(app, db, world):
    """JSONField stores json.dumps(value): the rows written before it read the same, no migration needed."""
    row = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"], checked_in_at=utcnow(), name="Worker",
                         confirmed=["helmet", "hi_vis"], missing=[])
    raw = database.execute_sql(f"SELECT confirmed, missing FROM check_in WHERE id = {int(row.id)}").fetchone()
    assert tuple(raw) == ('["helmet", "hi_vis"]', "[]")
    assert CheckIn.get_by_id(row.id).confirmed == ["helmet", "hi_vis"]
    event = ReportEvent.create(report=world.report, kind="assigned", data={"deadline": utcnow().date()})
    text = database.execute_sql(f"SELECT data FROM report_event WHERE id = {int(event.id)}").fetchone()[0]
    assert text == '{"deadline": "%s"}' % utcnow().date().isoformat()  # dates as text (default=str), as before
