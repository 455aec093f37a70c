"""Schemathesis hooks for scripts/schemathesis_run.py (loaded inside .venv-schemathesis).

Authentication: a JWT of the demo supervisor, fetched from /api/v1/auth/token/ and fetched again
when the API answers 401 (the run itself calls logout-all, which ends the session) or after 10 minutes
(an access token lives 15).
"""

import os

import requests
import schemathesis

BASE = os.environ["TRAVELCRM_API_BASE"]
EMAIL, PASSWORD = os.environ["TRAVELCRM_API_LOGIN"].split(":", 1)


@schemathesis.auth(refresh_interval=600)
class SupervisorToken:
    def get(self, case, context):
        response = requests.post(f"{BASE}/api/v1/auth/token/", json={"email": EMAIL, "password": PASSWORD},
                                 timeout=30)  # fmt: skip
        response.raise_for_status()
        return response.json()["access"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
