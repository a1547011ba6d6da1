"""The Airflow plugin: the catalog browser mounted under the API server at /tubescribe, with a navigation entry.

Airflow mounts a plugin's FastAPI app as it is, without its own authentication; the app is therefore
built with Airflow's `requires_authenticated` as a dependency of every route, so the pages answer only
a request that carries the UI's session cookie or an API token (401 otherwise), as the REST API does.
"""

from __future__ import annotations

from airflow.api_fastapi.core_api.security import requires_authenticated
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends

from tubescribe.web.app import create_app

PREFIX = "/tubescribe"


class TubescribePlugin(AirflowPlugin):
    """tubescribe's catalog browser in Airflow's UI."""

    name = "tubescribe"
    fastapi_apps = [  # noqa: RUF012 (Airflow reads these class attributes)
        {
            "app": create_app(dependencies=[Depends(requires_authenticated())], title="tubescribe catalog"),
            "url_prefix": PREFIX,
            "name": "tubescribe catalog",
        }
    ]
    # A relative href: Airflow resolves it against its base URL, so a deployment under a sub-path works.
    external_views = [  # noqa: RUF012
        {
            "name": "tubescribe catalog",
            "href": f"{PREFIX.lstrip('/')}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "tubescribe",
        }
    ]
