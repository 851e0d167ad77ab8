"""The live websocket: queue changes and the open conversation's messages, pushed as JSON.
The Origin is checked by ``require_roles`` when it opens; the session is checked again every
SESSION_RECHECK_SECONDS while it stays open, so a logout, a deactivation, a password reset
or a lost role closes it (code 1008) instead of letting a watched conversation stream on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlmodel import Session, col, select
from starlette.websockets import WebSocketDisconnect

from bot.handoff.service import (
    QUEUE,
    HandoffService,
)
from console.auth import CurrentStaff, Db, optional_staff_async
from console.handoff import views
from console.handoff.common import (
    FINAL,
    POLL_SECONDS,
    CareManager,
    service_of,
)
from conversations.models import Direction, Message
from core.database import Database
from staff.roles import Role

log = logging.getLogger(__name__)

router = APIRouter()

SESSION_RECHECK_SECONDS = 3.0


async def _still_allowed(websocket: WebSocket, staff: CurrentStaff) -> bool:
    """The same session, still live, same person, no pending password change, still a
    Care Manager (what ``CareManager`` checked when the socket opened)."""
    now = await optional_staff_async(websocket)
    return (
        now is not None
        and now.session_id == staff.session_id
        and now.id == staff.id
        and not now.must_change_password
        and Role.care_manager in now.roles
    )


# --- live: queue changes and the open conversation ---------------------------------------------


@router.websocket("/diretta", name="handoff_live")
async def live(
    websocket: WebSocket, db: Db, staff: CareManager, handoff: int = 0, after: int = 0
) -> None:
    """JSON events: ``queue`` (a hand-off changed: refresh; ``event: new`` notifies),
    ``message`` (the open conversation), ``status`` (delivery of a reply), ``gone``."""
    service = service_of(websocket)
    await websocket.accept()
    if service is None:
        await websocket.send_json({"type": "offline"})
        await websocket.close(code=1011)
        return
    watched = None
    if handoff:
        found = await db.run(lambda s: views.visible_handoff(s, staff, handoff))
        watched = found.conversation_id if found is not None else None
    service.online[staff.id] += 1
    try:
        await _pump(websocket, db, service, staff, handoff, watched, after)
    except _SignedOut:
        with contextlib.suppress(Exception):
            await websocket.send_json({"type": "signed_out"})
            await websocket.close(code=1008)
    except WebSocketDisconnect:
        pass
    finally:
        service.online[staff.id] -= 1
        if service.online[staff.id] <= 0:
            del service.online[staff.id]


async def _pump(
    websocket: WebSocket,
    db: Database,
    service: HandoffService,
    staff: CurrentStaff,
    handoff_id: int,
    watched: str | None,
    after: int,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        queue_events = await stack.enter_async_context(service.events.subscribe(QUEUE))
        conversation_events = (
            await stack.enter_async_context(service.gateway.events.subscribe(watched))
            if watched
            else None
        )
        await websocket.send_json({"type": "ready", "watching": bool(watched)})
        tracker = _StatusTracker(after)
        loop = asyncio.get_running_loop()
        checked = loop.time()
        receiver = asyncio.ensure_future(websocket.receive())
        getters: dict[asyncio.Future[Any], str] = {
            asyncio.ensure_future(queue_events.get()): "queue"
        }
        if conversation_events is not None:
            getters[asyncio.ensure_future(conversation_events.get())] = "conversation"
        try:
            while True:
                done, _ = await asyncio.wait(
                    {receiver, *getters},
                    timeout=min(POLL_SECONDS, SESSION_RECHECK_SECONDS),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if loop.time() - checked >= SESSION_RECHECK_SECONDS:
                    checked = loop.time()
                    if not await _still_allowed(websocket, staff):
                        raise _SignedOut
                if receiver in done:
                    if receiver.result().get("type") == "websocket.disconnect":
                        return
                    receiver = asyncio.ensure_future(websocket.receive())
                for future in [f for f in done if f in getters]:
                    source = getters.pop(future)
                    event = future.result()
                    if source == "queue":
                        await websocket.send_json(event)
                        if watched and event.get("handoff_id") == handoff_id:
                            still = await db.run(
                                lambda s: views.visible_handoff(s, staff, handoff_id)
                            )
                            if still is None:
                                await websocket.send_json({"type": "gone"})
                                watched = None
                                conversation_events = None
                        getters[asyncio.ensure_future(queue_events.get())] = "queue"
                    else:
                        if watched is None or conversation_events is None:
                            continue
                        await _forward(websocket, event, tracker)
                        getters[asyncio.ensure_future(conversation_events.get())] = "conversation"
                if watched:
                    for update in await tracker.poll(db, watched):
                        await websocket.send_json(update)
        finally:
            receiver.cancel()
            for future in getters:
                future.cancel()


class _SignedOut(Exception):
    """The session behind an open websocket ended (or lost the right to it)."""


async def _forward(websocket: WebSocket, event: dict[str, Any], tracker: _StatusTracker) -> None:
    kind = event.get("type")
    if kind == "message":
        view = event["message"]
        if view.get("id") is None:
            return
        tracker.seen(view)
        await websocket.send_json({"type": "message", "message": view})
    elif kind in ("mode", "typing"):
        await websocket.send_json({k: v for k, v in event.items() if k != "conversation_id"})


class _StatusTracker:
    """Outbound messages whose delivery may still change (sent -> delivered -> read), and
    the newest message id seen, to fill any gap the in-process event bus left."""

    def __init__(self, after: int = 0) -> None:
        self.statuses: dict[int, str] = {}
        self.last_id = after
        self.last_poll = 0.0

    def seen(self, view: dict[str, Any]) -> None:
        message_id = int(view["id"])
        self.last_id = max(self.last_id, message_id)
        if view.get("direction") == Direction.outbound.value and view.get("status") not in FINAL:
            self.statuses[message_id] = str(view.get("status"))

    async def poll(self, db: Database, conversation_id: str) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_poll < POLL_SECONDS:
            return []
        self.last_poll = loop.time()
        tracked = dict(list(self.statuses.items())[-50:])

        def load(session: Session) -> tuple[list[Message], list[Message]]:
            changed = []
            if tracked:
                changed = list(
                    session.exec(select(Message).where(col(Message.id).in_(list(tracked))))
                )
            newer = []
            if self.last_id:
                newer = list(
                    session.exec(
                        select(Message)
                        .where(
                            Message.conversation_id == conversation_id,
                            col(Message.id) > self.last_id,
                        )
                        .order_by(col(Message.id))
                        .limit(50)
                    )
                )
            return changed, newer

        changed, newer = await db.run(load)
        updates: list[dict[str, Any]] = []
        for message in changed:
            assert message.id is not None
            if str(message.status) != tracked.get(message.id):
                updates.append({"type": "status", "id": message.id, "status": message.status})
                if message.status in FINAL:
                    self.statuses.pop(message.id, None)
                else:
                    self.statuses[message.id] = str(message.status)
        for message in newer:
            view = views.console_view(message)
            self.seen(view)
            updates.append({"type": "message", "message": view})
        return updates
