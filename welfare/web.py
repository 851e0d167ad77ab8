"""The gateway's route for voucher QR images (included by server.app): the PNG encodes the
redemption page's URL (``welfare.qr.redeem_url``)."""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.database import Database
from core.settings import Settings, get_settings
from welfare.models import Voucher, VoucherStatus
from welfare.qr import ROUTE_PREFIX, voucher_qr_png

router = APIRouter()
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


def _engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "welfare_engine", None)
    gateway = getattr(request.app.state, "gateway", None)
    if engine is None and gateway is not None:
        engine = gateway.db.engine
    if engine is None:
        from core.db import get_engine

        engine = get_engine()
    return engine


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "welfare_settings", None) or get_settings()


def _code_for(session: Session, *, token: str) -> str | None:
    voucher = session.exec(select(Voucher).where(Voucher.qr_token == token)).first()
    if voucher is None or voucher.status != VoucherStatus.issued:
        return None
    return voucher.code


@router.get(ROUTE_PREFIX + "/{token}.png", include_in_schema=False)
async def voucher_qr(request: Request, token: str) -> Response:
    if not _TOKEN.match(token):
        raise HTTPException(404)
    code = await Database(_engine(request)).run(_code_for, token=token)
    if code is None:
        raise HTTPException(404)
    png = await asyncio.to_thread(voucher_qr_png, code, _settings(request))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
