"""The catalog browser: a read-only web app over the catalog, standalone (`tubescribe serve`) or in Airflow's UI.

The only code that imports fastapi and jinja2 (and, in `plugin`, the one piece outside orchestration that
imports Airflow: the plugin that mounts this app in Airflow's API server). `app` holds the routes,
`charts` the SVG geometry, `templates/` and `static/` the pages; what they show comes from catalog.browse.
"""
