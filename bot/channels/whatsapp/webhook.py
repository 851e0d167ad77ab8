"""GET/POST /whatsapp/webhook: Meta's verification handshake and the signed notifications.

GET: hub.mode=subscribe and hub.verify_token == WHATSAPP_VERIFY_TOKEN -> hub.challenge echoed,
else 403. POST: X-Hub-Signature-256 must be the HMAC-SHA256 of the raw body with the app
secret (constant-time comparison), else 403. Messages are stored (deduplicated on their
wamid) and statuses recorded before the 200; on a storage failure the answer is 500 and
Meta delivers again.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse

from bot.channels.whatsapp import convert
from bot.channels.whatsapp.signature import HEADER, verify
from bot.delivery import StatusReport
from bot.gateway import Gateway
from channels.whatsapp import WINDOW_CLOSED_CODE
from conversations import repository as repo
from conversations.models import Channel, Status

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/whatsapp/webhook", include_in_schema=False)
async def verify_subscription(request: Request) -> PlainTextResponse:
    config = getattr(request.app.state, "whatsapp", None)
    params = request.query_params
    expected = config.verify_token if config else ""
    given = params.get("hub.verify_token", "")
    if (
        not expected
        or params.get("hub.mode") != "subscribe"
        or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    ):
        raise HTTPException(status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


@router.post("/whatsapp/webhook", include_in_schema=False)
async def notifications(request: Request) -> Response:
    config = getattr(request.app.state, "whatsapp", None)
    if config is None or not config.app_secret or not request.headers.get(HEADER):
        # WhatsApp off, no secret or no signature: refused before the body is read (its size
        # is capped before this route by core.body_limit)
        log.warning("whatsapp webhook: request refused (channel off or unsigned)")
        raise HTTPException(status_code=403)
    body = await request.body()
    if not verify(body, request.headers.get(HEADER), config.app_secret):
        log.warning("whatsapp webhook: request refused (signature)")
        raise HTTPException(status_code=403)
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(status_code=400) from None
    gateway: Gateway = request.app.state.gateway
    for inbound in convert.inbound_messages(payload, phone_number_id=config.phone_number_id):
        await gateway.receive(inbound)
    for report in convert.status_reports(payload, phone_number_id=config.phone_number_id):
        await _record_status(gateway, report)
    return Response(status_code=200)


async def _record_status(gateway: Gateway, report: convert.StatusReport) -> None:
    error = f"whatsapp:{report.error_code}" if report.error_code else ""
    if report.status == Status.failed and report.error_code == WINDOW_CLOSED_CODE:
        held = await gateway.db.run(
            repo.hold_for_window, channel=Channel.whatsapp, external_id=report.external_id
        )
        if held is not None:
            log.warning(
                "conversation %s: message %s refused outside the 24-hour window; held until "
                "the citizen writes again",
                held.conversation_id,
                held.id,
            )
            return
    await gateway.sender.record_status(
        StatusReport(Channel.whatsapp, report.external_id, report.status, report.at, error)
    )
