from tests.gateway.conftest import (  # noqa: F401  (the gateway tests' fixtures)
    fake_graph,
    fake_rasa,
    fake_telegram,
    start_gateway,
)
