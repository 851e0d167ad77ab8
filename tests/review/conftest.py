from tests.gateway.conftest import fake_rasa, fake_telegram, start_gateway  # noqa: F401
