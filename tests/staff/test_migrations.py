"""Schema migrations (Alembic, bot/migrations/): a fresh database, an old create_all database with plaintext
contact details, downgrade and upgrade again, and the same on PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, inspect, select, text

from bot import migrations
from bot.db import Base, make_engine
from bot.escalations import Escalation
from tests.servers import postgres_server, postgres_url  # noqa: F401,F811 - pytest fixtures

PLAIN = ("Bob Runner", "+447700900123")


@pytest.fixture(autouse=True)
def data_key(tmp_path, monkeypatch):
    from bot import encryption

    monkeypatch.delenv("CLINIC_DATA_KEY", raising=False)
    monkeypatch.setenv("CLINIC_DATA_KEY_FILE", str(tmp_path / "data_key"))
    encryption.forget_keys()
    yield
    encryption.forget_keys()


def schema_differences(engine) -> list:
    """What differs between the migrated database and the models, for the tables the migrations own."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to: (
                (name if type_ == "table" else obj.table.name) in migrations.MIGRATED_TABLES)})
        return compare_metadata(context, Base.metadata)


def old_schema_with_plaintext(engine) -> None:
    """The escalations table as create_all made it before migrations (String(255) contact columns), one row."""
    metadata = MetaData()
    Table("escalations", metadata, Column("id", Integer, primary_key=True), Column("conversation_id", String(255)),
          Column("channel", String(64)), Column("level", String(32)), Column("flags", Text), Column("message", Text),
          Column("contact_name", String(255)), Column("contact_details", String(255)), Column("consent", Integer),
          Column("status", String(32)), Column("assignee", String(255)), Column("notes", Text),
          Column("notified", Integer), Column("created_at", String(32)), Column("updated_at", String(32)))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO escalations (conversation_id, level, flags, message, contact_name, "
                          "contact_details, consent, status, notified, created_at, updated_at) VALUES ('bob', "
                          "'emergency', 'pop', 'a pop', :name, :details, 1, 'open', 0, '2026-01-01 10:00:00', "
                          "'2026-01-01 10:00:00')"), {"name": PLAIN[0], "details": PLAIN[1]})


def raw_contacts(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT contact_name, contact_details FROM escalations"))]


def decrypted_contacts(engine) -> list[tuple]:
    table = Escalation.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table.c.contact_name, table.c.contact_details))]


def test_a_fresh_database_is_migrated_to_the_models_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrations.current(engine) is None
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head() == "0005_channels_names_origin"
    assert migrations.MIGRATED_TABLES <= set(inspect(engine).get_table_names())
    assert "events" not in inspect(engine).get_table_names()  # Rasa's table is Rasa's
    assert schema_differences(engine) == []
    migrations.upgrade(engine)  # again: nothing to do, no error
    assert migrations.current(engine) == migrations.head()


def test_an_old_database_is_adopted_and_its_contact_details_encrypted(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    old_schema_with_plaintext(engine)
    assert raw_contacts(engine) == [PLAIN]
    migrations.upgrade(engine)
    (name, details), = raw_contacts(engine)
    assert name.startswith("gAAAAA") and details.startswith("gAAAAA")
    assert PLAIN[0] not in name and PLAIN[1] not in details
    assert decrypted_contacts(engine) == [PLAIN]
    # The tables the old database lacked were created; its escalations table now matches the model.
    assert migrations.MIGRATED_TABLES <= set(inspect(engine).get_table_names())
    assert [d for d in schema_differences(engine) if "escalations" in repr(d) and "contact" in repr(d)] == []


def test_downgrade_to_the_baseline_gives_plaintext_back_and_upgrade_seals_it_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    old_schema_with_plaintext(engine)
    migrations.upgrade(engine)
    migrations.downgrade(engine, "0001_baseline")
    assert migrations.current(engine) == "0001_baseline" and raw_contacts(engine) == [PLAIN]
    migrations.upgrade(engine)
    assert raw_contacts(engine)[0][1].startswith("gAAAAA") and decrypted_contacts(engine) == [PLAIN]


def test_the_console_migrates_on_first_use_and_the_command_reports_it(clinic_db, capsys):
    from bot.cli import main
    from bot.staff.db import forget_prepared, staff_engine

    forget_prepared()
    engine = staff_engine(clinic_db)
    assert migrations.current(engine) == migrations.head()
    assert main(["staff", "migrate", "--status"]) == 0
    assert f"database at revision {migrations.head()}" in capsys.readouterr().out
    assert main(["staff", "migrate"]) == 0
    forget_prepared()


@pytest.mark.postgres
def test_migrations_on_postgresql(postgres_url):  # noqa: F811 - the fixture imported above
    engine = make_engine(postgres_url)
    try:
        old_schema_with_plaintext(engine)
        migrations.upgrade(engine)
        assert migrations.current(engine) == migrations.head()
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("escalations")}
        assert isinstance(columns["contact_details"], Text)
        assert raw_contacts(engine)[0][0].startswith("gAAAAA") and decrypted_contacts(engine) == [PLAIN]
        # A long contact detail fits now (a Fernet token of 255 characters is ~420 characters long).
        long_name = "N" * 255
        with engine.begin() as conn:
            conn.execute(Escalation.__table__.update().values(contact_name=long_name))
        assert decrypted_contacts(engine)[0][0] == long_name
        migrations.downgrade(engine, "0001_baseline")
        migrations.upgrade(engine)
        assert decrypted_contacts(engine)[0][0] == long_name
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_fresh_postgresql_database_matches_the_models(postgres_url):  # noqa: F811
    engine = make_engine(postgres_url)
    try:
        migrations.upgrade(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
