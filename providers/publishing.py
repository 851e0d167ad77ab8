"""Putting services into the catalogue: a reviewed draft becomes (or updates) a ``Service``,
with its search columns, and the catalogue's revision moves so searches see it at once."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlmodel import Session, select

from catalog.models import Provider, Service
from catalog.repository import get_service, save_service
from catalog.text import fold
from providers.models import DraftStatus, ServiceDraft


def slug(text: str, *, limit: int = 40) -> str:
    words = re.findall(r"[a-z0-9]+", fold(text).lower())
    return "-".join(words)[:limit].strip("-") or "ente"


def _free_code(session: Session, model: type[Service] | type[Provider], base: str) -> str:
    code = base
    while session.exec(select(model.id).where(model.code == code)).first() is not None:
        code = f"{base}-{secrets.token_hex(2)}"
    return code


def new_provider_code(session: Session, name: str) -> str:
    return _free_code(session, Provider, slug(name, limit=30))


def publish_draft(
    session: Session,
    *,
    draft: ServiceDraft,
    provider: Provider,
    status: DraftStatus,
    reviewer_id: int | None,
    now: datetime,
) -> Service:
    """Write the draft into the catalogue for ``provider`` and mark it ``status``."""
    assert provider.id is not None
    service = get_service(session, code=draft.service_code) if draft.service_code else None
    if service is None:
        # at most 58 characters, 63 with the suffix _free_code may add: Service.code holds 64
        base = f"{provider.code[:24]}-{slug(draft.data['title'], limit=33)}"
        code = _free_code(session, Service, base)
        service = Service(code=code, provider_id=provider.id, **draft.data)
    else:
        if service.provider_id != provider.id:
            raise ValueError("a draft may only change its own provider's service")
        for name, value in draft.data.items():
            setattr(service, name, value)
    save_service(session, service=service)
    draft.service_code = service.code
    draft.provider_code = provider.code
    draft.status = status
    draft.reviewed_by = reviewer_id
    draft.reviewed_at = now
    session.add(draft)
    session.flush()
    return service
