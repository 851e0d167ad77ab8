"""The welfare budget in the console (issue 7).

Its sections (listed in console.app.SECTIONS):
- "Cittadini e budget" at /cittadini (welfare_officer, care_manager): find a
  citizen, see their budgets and full statement, export it as CSV, issue a one-time linking
  code (shown once), unlink their chats;
- "Voucher" at /voucher (provider_staff): redeem a voucher code (captures the budget hold),
  as a page or a JSON API;
- "Rimborsi" at /rimborsi (welfare_officer): review reimbursement requests (receipt,
  approve all or part, reject with a reason; the citizen is told on their channel);
- "Appuntamenti" at /appuntamenti (care_manager, hub_staff): publish Welcome Point slots,
  see bookings, withdraw a free slot, cancel a booking.
"""

from __future__ import annotations

from pathlib import Path

from console.navigation import Section
from console.welfare import appointments, citizens, reimbursements, vouchers
from staff.roles import Role

TEMPLATES = Path(__file__).parent / "templates"

CITIZENS = Section(
    key="citizens",
    label="Cittadini e budget",
    path="/cittadini",
    roles=citizens.ROLES,
    router=citizens.router,
    templates_dir=TEMPLATES,
    description="Budget welfare dei cittadini: estratto conto, esportazione CSV, codici per "
    "collegare la chat.",
    order=30,
    audit_labels=citizens.AUDIT_LABELS,
)

VOUCHERS = Section(
    key="vouchers",
    label="Voucher",
    path="/voucher",
    roles=frozenset({Role.provider_staff}),
    router=vouchers.router,
    templates_dir=TEMPLATES,
    description="Riscatta i voucher pagati con il budget welfare che i cittadini ti mostrano.",
    order=40,
    audit_labels=vouchers.AUDIT_LABELS,
)

REIMBURSEMENTS = Section(
    key="reimbursements",
    label="Rimborsi",
    path="/rimborsi",
    roles=frozenset({Role.welfare_officer}),
    router=reimbursements.router,
    templates_dir=TEMPLATES,
    description="Richieste di rimborso dei cittadini: guarda la ricevuta, approva o respingi.",
    order=35,
    audit_labels=reimbursements.AUDIT_LABELS,
)

APPOINTMENTS = Section(
    key="appointments",
    label="Appuntamenti",
    path="/appuntamenti",
    roles=appointments.ROLES,
    router=appointments.router,
    templates_dir=TEMPLATES,
    description="Pubblica gli orari dei Care Manager nei Welcome Point e guarda le prenotazioni.",
    order=45,
    audit_labels=appointments.AUDIT_LABELS,
)
