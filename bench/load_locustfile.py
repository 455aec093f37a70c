"""The locust users of bench/load.py (run by it; not meant to be started by hand).

A busy agency's mix, by task weight: 70 % reads (client search by name and by phone, order list,
order detail, order timeline, lead list), 20 % writes (web-form leads through the public JSON
endpoint, a service added to an order, a payment), 10 % reports (JSON) and document downloads
(the PDF streamed through the API). The seeded ids and the JWTs come from the JSON file named by
LOAD_FIXTURE, written by bench/load.py.
"""

import json
import os
import random
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, events, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"], encoding="utf-8").read())  # noqa: SIM115
WAIT = [float(part) for part in os.environ.get("LOAD_WAIT", "1,3").split(",")]
ERRORS = open(os.environ["LOAD_ERRORS"], "a", encoding="utf-8")  # noqa: SIM115
REPORTS = ["orders", "debts", "commissions", "sales", "funnel", "clients"]


@events.request.add_listener
def record_failure(request_type, name, response, exception, **kwargs):
    """Every non-2xx with its status and body, for bench/load.py's report (locust keeps only the text)."""
    if exception is not None:
        status = getattr(response, "status_code", 0)
        body = (getattr(response, "text", "") or str(exception))[:300]
        ERRORS.write(json.dumps({"name": name, "status": status, "body": body}, ensure_ascii=False) + "\n")
        ERRORS.flush()


class AgencyUser(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        self.operator = {"Authorization": f"Bearer {FIXTURE['operator_token']}"}
        self.accountant = {"Authorization": f"Bearer {FIXTURE['accountant_token']}"}

    # --- reads: 70 -------------------------------------------------------------------------------
    @task(12)
    def client_search_name(self):
        name = random.choice(FIXTURE["last_names"])
        self.client.get(f"/api/v1/clients/?search={name}&page_size=25", headers=self.operator,
                        name="GET /clients/?search=")

    @task(6)
    def client_search_phone(self):
        self.client.get(f"/api/v1/clients/?phone={random.choice(FIXTURE['phones'])}", headers=self.operator,
                        name="GET /clients/?phone=")

    @task(15)
    def order_list(self):
        self.client.get("/api/v1/orders/?page_size=50", headers=self.operator, name="GET /orders/")

    @task(15)
    def order_detail(self):
        self.client.get(f"/api/v1/orders/{random.choice(FIXTURE['orders'])['id']}/", headers=self.operator,
                        name="GET /orders/{id}/")

    @task(10)
    def order_timeline(self):
        self.client.get(f"/api/v1/orders/{random.choice(FIXTURE['orders'])['id']}/timeline/",
                        headers=self.operator, name="GET /orders/{id}/timeline/")

    @task(12)
    def lead_list(self):
        self.client.get("/api/v1/leads/?page_size=50", headers=self.operator, name="GET /leads/")

    # --- writes: 20 ------------------------------------------------------------------------------
    @task(8)
    def webform_lead(self):
        number = random.randrange(10_000_000)
        self.client.post("/api/v1/public/leads/", name="POST /public/leads/", json={
            "name": f"Посетитель сайта {number}", "phone": f"+7925{number:07d}",
            "wishes": "Турция, 2 взрослых, 7 ночей", "consent": True,
        })  # fmt: skip

    @task(7)
    def add_service(self):
        order = random.choice(FIXTURE["orders"])
        start = datetime(2027, 3, 1, 10, tzinfo=UTC) + timedelta(days=random.randrange(300))
        self.client.post(f"/api/v1/orders/{order['id']}/services/", headers=self.operator,
                         name="POST /orders/{id}/services/", json={
            "type": "local", "start_dt": start.isoformat(), "end_dt": (start + timedelta(hours=3)).isoformat(),
            "city": "Анталья", "price": "2500.00", "commission_percent": "10", "travellers": order["travellers"],
            "details": {"title": "Экскурсия", "kind": "excursion"},
        })  # fmt: skip

    @task(5)
    def payment(self):
        order = random.choice(FIXTURE["payable_orders"])
        self.client.post(f"/api/v1/orders/{order}/payments/", headers=self.accountant,
                         name="POST /orders/{id}/payments/",
                         json={"amount": "100.00", "method": "card", "type": "payment"})

    # --- reports and documents: 10 ---------------------------------------------------------------
    @task(6)
    def report(self):
        name = random.choice(REPORTS)
        self.client.get(f"/api/v1/reports/{name}/", headers=self.accountant, name=f"GET /reports/{name}/")

    @task(4)
    def document_download(self):
        if not FIXTURE["documents"]:
            return
        self.client.get(f"/api/v1/documents/{random.choice(FIXTURE['documents'])}/download/",
                        headers=self.operator, name="GET /documents/{id}/download/")
