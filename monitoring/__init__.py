"""Monitoring for the Data Analyst and the Tavolo di coordinamento: aggregates only.

``monitoring.views`` builds the seven views (needs, use, understanding, care, budget,
Welcome Points, announcements) for a period; ``monitoring.tables`` holds the small-count
rule (MONITORING_MIN_COUNT); ``monitoring.charts`` draws CSP-safe SVG (by hand, ``chart_svg``);
``monitoring.export`` writes neutralised CSV; ``monitoring.report`` the monthly report
(HTML and PDF). The console section «Monitoraggio» and ``python -m console report`` use it.
The views read ``monitoring.summaries`` (anonymous counts per day, kept by the gateway's
job; docs/monitoring.md), not the raw rows.
"""
