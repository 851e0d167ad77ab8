"""Closed vocabularies of the catalogue: category and target-group slugs with Italian labels.

Slugs are the stable identifiers stored in the database and used by the actions;
labels are what a citizen reads.
"""

from __future__ import annotations

from typing import Final

CATEGORY_LABELS: Final[dict[str, str]] = {
    "childcare": "Nidi e servizi per la prima infanzia",
    "babysitting": "Babysitter",
    "after_school": "Doposcuola",
    "summer_camp": "Centri estivi",
    "home_care": "Assistenza domiciliare",
    "elderly_day_care": "Centri diurni per anziani",
    "disability": "Disabilità",
    "psychological_support": "Supporto psicologico",
    "health": "Salute",
    "housing": "Casa",
    "job_search": "Ricerca di lavoro",
    "training": "Formazione",
    "italian_course": "Corsi di italiano",
    "income_support": "Sostegno al reddito",
    "food_aid": "Aiuti alimentari",
    "family_counselling": "Consulenza per famiglie",
    "work_life_balance": "Conciliazione vita-lavoro",
    "sport_leisure": "Sport e tempo libero",
}

TARGET_LABELS: Final[dict[str, str]] = {
    "infants": "neonati e bambini piccoli",
    "children": "bambini",
    "teenagers": "ragazzi",
    "young_people": "giovani",
    "families": "famiglie",
    "parents": "genitori",
    "elderly": "anziani",
    "caregivers": "chi assiste un familiare",
    "people_with_disabilities": "persone con disabilità",
    "women": "donne",
    "migrants": "persone straniere",
    "unemployed": "persone senza lavoro",
    "workers": "lavoratori",
    "everyone": "tutti",
}

COST_LABELS: Final[dict[str, str]] = {
    "free": "gratuito",
    "co_payment": "con una quota a carico",
    "paid": "a pagamento",
}

STAFF_ROLE_LABELS: Final[dict[str, str]] = {
    "care_manager": "care manager",
    "tutor": "tutor",
    "community_organizer": "animatore di comunità",
    "data_analyst": "analista dei dati",
    "hub_manager": "responsabile dell'hub",
}

CATEGORIES: Final[frozenset[str]] = frozenset(CATEGORY_LABELS)
TARGET_GROUPS: Final[frozenset[str]] = frozenset(TARGET_LABELS)
STAFF_ROLES: Final[frozenset[str]] = frozenset(STAFF_ROLE_LABELS)
