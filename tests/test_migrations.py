"""The migration history stays one line of descent with a single head."""

from alembic.script import ScriptDirectory

from core.migrate import alembic_config


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: add a merge revision"
