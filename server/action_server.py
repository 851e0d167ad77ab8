"""``python -m server.action_server --actions actions -p PORT``: rasa-sdk's action server,
answering only Rasa.

rasa-sdk has no authentication of its own: ``/webhook`` runs any action for any conversation
id and ``/actions`` lists them. This launcher builds rasa-sdk's own Sanic application
(``rasa_sdk.endpoint.create_app_for_serve``, the same arguments as ``python -m rasa_sdk``) and
adds one request middleware: everything but ``GET /health`` needs
``Authorization: Bearer <ACTION_SERVER_TOKEN>``, the header Rasa sends from endpoints.yml.
Bodies are capped at ACTION_SERVER_MAX_BODY_BYTES (Sanic's REQUEST_MAX_SIZE, default 100 MB):
a larger declared Content-Length is answered 413 before any byte of the body is read, a
chunked body is cut at the cap, and no action runs.
The secret comes from the environment (or VAR_DIR/secrets.env), never the command line; with
no secret the server does not start.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from core.local_secrets import resolve_secret
from core.private_files import restrict_umask
from core.settings import get_settings
from nlu.internal_auth import ACTION_SECRET_ENV, HEADER, authorized

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def guarded_app(
    action_executor: ActionExecutor,
    secret: str,
    *,
    max_body_bytes: int | None = None,
    **kwargs: Any,
) -> Sanic:
    """rasa-sdk's app, with every route but /health behind the shared secret and every body
    capped at ``max_body_bytes`` (None: ACTION_SERVER_MAX_BODY_BYTES)."""
    if not secret:
        raise SystemExit(f"{ACTION_SECRET_ENV} is empty: the action server would be open")
    app = create_app_for_serve(action_executor, **kwargs)
    if max_body_bytes is None:
        max_body_bytes = get_settings().action_server_max_body_bytes
    app.config.REQUEST_MAX_SIZE = max_body_bytes

    async def too_large(request: Request, exception: Exception) -> HTTPResponse:
        # rasa-sdk answers every exception 500 and echoes the request; this one is the caller's
        return response.json({"error": "request body too large"}, status=413)

    app.error_handler.add(PayloadTooLarge, too_large)

    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or authorized(request.headers.get(HEADER), secret):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    app.register_middleware(only_rasa, "request")
    return app


def _app_factory(action_executor: ActionExecutor, **kwargs: Any) -> Sanic:
    # module level, so that Sanic's worker processes can rebuild it; the secret is read from
    # the environment each of them inherits
    return guarded_app(action_executor, os.environ.get(ACTION_SECRET_ENV, ""), **kwargs)


def action_secret() -> str:
    settings = get_settings()
    return os.environ.get(ACTION_SECRET_ENV) or resolve_secret(
        settings.action_server_token.get_secret_value(), settings.var_dir, ACTION_SECRET_ENV
    )


def main(argv: list[str] | None = None) -> int:
    restrict_umask()
    args = create_argument_parser().parse_args(sys.argv[1:] if argv is None else argv)
    os.environ[ACTION_SECRET_ENV] = action_secret()
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    loader = AppLoader(
        factory=partial(
            _app_factory,
            executor,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
            endpoints=args.endpoints,
        )
    )
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    log.info("action server on http://%s:%s (only Rasa, with the shared secret)", host, args.port)
    workers = utils.number_of_sanic_workers()
    if workers == 1:
        # one worker: serve in this process (no spawned copy re-importing every action, no
        # 30-second start-up handshake that a loaded machine misses)
        app.prepare(host=host, port=args.port, single_process=True)
        Sanic.serve_single(primary=app)
    else:
        app.prepare(host=host, port=args.port, workers=workers)
        Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
