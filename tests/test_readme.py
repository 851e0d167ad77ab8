"""README.md is the first thing a user reads: it must document every setting."""

from core.settings import PROJECT_ROOT, Settings


def test_readme_documents_every_setting() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert not missing, f"README.md does not document: {missing} (python -m core.settings_doc)"


def test_readme_gives_the_two_commands() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
