"""A fake WhatsApp Cloud API (Graph) server: media lookup → url → download, phone-number info.

GET /<media_id> (Bearer token) → {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"};
GET /download/<media_id> (Bearer token) → the bytes; GET /<phone_number_id> → number info.
Errors use Graph's shape: {"error": {"message", "type", "code"}}.
"""

import hashlib
import json
import re
import uuid
from urllib.parse import urlsplit

from apps.integrations.testing.fake_http import FakeServer, QuietHandler


class FakeWhatsAppGraph(FakeServer):
    def __init__(self, port: int = 0, token: str = "wa-access-token"):  # noqa: S107 — a fake
        self.handler_class = GraphHandler
        super().__init__(port)
        self.token = token
        self.media: dict[str, dict] = {}
        self.phone_numbers: dict[str, dict] = {}
        self.downloads = 0
        self.requests = 0
        self.fail_next: list[int] = []  # statuses answered (in order) before the real answer, e.g. [503]

    def add_media(self, content: bytes, mime_type: str = "image/jpeg", size: int | None = None) -> str:
        media_id = str(uuid.uuid4().int)[:16]
        self.media[media_id] = {
            "content": content,
            "mime_type": mime_type,
            "size": size if size is not None else len(content),
        }
        return media_id

    def add_phone_number(self, phone_number_id: str, name: str = "Турагентство") -> None:
        self.phone_numbers[phone_number_id] = {
            "verified_name": name,
            "display_phone_number": "+7 900 000-00-00",
            "id": phone_number_id,
            "quality_rating": "GREEN",
        }


def _error(message: str, code: int) -> bytes:
    return json.dumps({"error": {"message": message, "type": "OAuthException", "code": code}}).encode()


class GraphHandler(QuietHandler):
    fake: FakeWhatsAppGraph

    def do_GET(self):  # noqa: N802 — http.server's naming
        self.fake.requests += 1
        if self.fake.fail_next:
            status = self.fake.fail_next.pop(0)
            return self.send_body(status, _error("Temporary failure.", 2))
        if self.headers.get("Authorization", "") != f"Bearer {self.fake.token}":
            return self.send_body(401, _error("Invalid OAuth access token.", 190))
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        if parts and re.fullmatch(r"v\d+\.\d+", parts[0]):
            parts = parts[1:]  # the Graph API version prefix
        if len(parts) == 2 and parts[0] == "download" and parts[1] in self.fake.media:
            self.fake.downloads += 1
            media = self.fake.media[parts[1]]
            return self.send_body(200, media["content"], media["mime_type"])
        if len(parts) == 1 and parts[0] in self.fake.media:
            media = self.fake.media[parts[0]]
            body = {
                "messaging_product": "whatsapp",
                "url": f"{self.fake.url}/download/{parts[0]}",
                "mime_type": media["mime_type"],
                "sha256": hashlib.sha256(media["content"]).hexdigest(),
                "file_size": media["size"],
                "id": parts[0],
            }
            return self.send_body(200, json.dumps(body).encode())
        if len(parts) == 1 and parts[0] in self.fake.phone_numbers:
            return self.send_body(200, json.dumps(self.fake.phone_numbers[parts[0]]).encode())
        return self.send_body(404, _error("Unsupported get request.", 100))
