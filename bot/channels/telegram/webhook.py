"""POST /telegram/webhook: Telegram's webhook, used when TELEGRAM_WEBHOOK_URL is set.

Every request must carry X-Telegram-Bot-Api-Secret-Token equal to TELEGRAM_WEBHOOK_SECRET
(constant-time comparison), else 403, checked before the body is read or parsed (the body
itself is capped before this route by core.body_limit). The update is stored before the 200
goes back; if it cannot be stored the answer is 500 and Telegram delivers it again.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import Update

log = logging.getLogger(__name__)

router = APIRouter()
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/telegram/webhook", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    runtime = getattr(request.app.state, "telegram", None)
    secret: str = getattr(request.app.state, "telegram_webhook_secret", "")
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        log.warning("telegram webhook: request refused (secret token)")
        raise HTTPException(status_code=403)
    if runtime is None:  # still starting: Telegram delivers it again later
        raise HTTPException(status_code=503)
    try:
        payload = json.loads(await request.body())
        update = Update.de_json(payload, runtime.application.bot)
    except Exception:
        log.warning("telegram webhook: malformed update refused")
        raise HTTPException(status_code=400) from None
    if update is None:
        return Response(status_code=200)
    await runtime.ingest(update)  # raises -> 500 -> Telegram redelivers
    return Response(status_code=200)
