"""Comprensione: fallbacks, out-of-scope, the two-stage fallback, intents, bot failures."""

from __future__ import annotations

from monitoring import tracker
from monitoring.summaries.read import read
from monitoring.tables import (
    Unit,
    View,
)
from monitoring.views.labels import (
    INTENT_LABELS,
    NOT_GIVEN,
    NOT_GIVEN_LABEL,
    REASON_LABELS,
    TOP_INTENTS,
)
from monitoring.views.query import (
    Context,
    Count,
)
from monitoring.views.shaping import (
    count_table,
    figure,
    ordered,
)

# --- Comprensione --------------------------------------------------------------------------


def understanding_view(ctx: Context) -> View:
    previous = ctx.period.previous()
    # from the summaries of Rasa's tracker store; the quartiere filter does not apply
    found, total = read(ctx.session, "intent", ctx.period, None).counts("intent")
    found_before, total_before = read(ctx.session, "intent", previous, None).counts("intent")

    def share(intent: str, counts: dict[str, Count], everything: Count) -> Count:
        n, people = counts.get(intent, (0, 0))
        return (round(100 * n / everything[0], 1) if everything[0] else 0, people)

    view = View(
        key="comprensione",
        title="Comprensione",
        intro="Quanto l'assistente capisce: messaggi non capiti e fuori tema, esiti del "
        "fallback in due passi, intenti più frequenti, segnalazioni di fallimento.",
        figures=[
            figure("Messaggi letti dall'assistente", total, total_before, ctx),
            figure(
                "Non capiti (%)",
                share(tracker.FALLBACK_INTENT, found, total),
                share(tracker.FALLBACK_INTENT, found_before, total_before),
                ctx,
                Unit.percent,
            ),
            figure(
                "Fuori tema (%)",
                share(tracker.OUT_OF_SCOPE_INTENT, found, total),
                share(tracker.OUT_OF_SCOPE_INTENT, found_before, total_before),
                ctx,
                Unit.percent,
            ),
        ],
    )
    outcomes, everyone = read(ctx.session, "two_stage", ctx.period, None).counts("outcome")
    view.tables.append(
        count_table(
            key="fallback_due_passi",
            title="Fallback in due passi: cosa è successo dopo",
            dimension="Esito",
            order=list(tracker.TWO_STAGE_OUTCOMES.items()),
            current=outcomes,
            total=everyone,
            min_count=ctx.min_count,
            note="L'assistente propone cosa ha capito; conta la risposta successiva del cittadino.",
        )
    )
    top = sorted(found.items(), key=lambda kv: -kv[1][0])[:TOP_INTENTS]
    shown = {k for k, _ in top}
    rest = [v for k, v in found.items() if k not in shown]
    current = dict(top)
    order = [(k, INTENT_LABELS.get(k, k)) for k, _ in top]
    if rest:
        # people of "others" is at least the largest of them: a lower bound, on the safe side
        current["_other"] = (sum(v[0] for v in rest), max(v[1] for v in rest))
        order.append(("_other", "Altri intenti"))
    view.tables.append(
        count_table(
            key="intenti",
            title="Intenti più frequenti",
            dimension="Intento",
            order=order,
            current=current,
            total=total,
            previous=(found_before, total_before),
            min_count=ctx.min_count,
        )
    )
    flags = read(ctx.session, "bot_failure", ctx.period, ctx.quartiere).counts("reason")
    view.figures.append(figure("Segnalazioni di fallimento del bot", flags[1], None, ctx))
    view.tables.append(
        count_table(
            key="fallimenti",
            title="Segnalazioni di fallimento del bot per motivo",
            dimension="Motivo",
            order=ordered(
                flags[0],
                lambda k: REASON_LABELS.get(k, k if k not in ("", NOT_GIVEN) else NOT_GIVEN_LABEL),
            ),
            current=flags[0],
            total=flags[1],
            min_count=ctx.min_count,
        )
    )
    return view
