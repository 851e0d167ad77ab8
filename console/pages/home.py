"""The home page: who you are and the sections you can open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import CurrentStaff, require_staff
from console.web import render

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, staff: Annotated[CurrentStaff, Depends(require_staff())]) -> Response:
    return render(request, "home.html", staff=staff)
