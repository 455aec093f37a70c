"""A fake WhatsApp Cloud API (Graph) server: media lookup → url → download, phone-number info.

GET /<media_id> (Bearer token) → {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"};
GET /download/<media_id> (Bearer token) → the bytes; GET /<phone_number_id> → number info.
POST /<phone_number_id>/messages (JSON: text, interactive, document) → {"messages": [{"id": wamid}]};
POST /<phone_number_id>/media (multipart: file, type, messaging_product) → {"id": media_id}.
Errors use Graph's shape: {"error": {"message", "type", "code"}}; a recipient in `window_closed`
gets Graph's 131047 (more than 24 hours since the customer's last message).
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
        self.sent: list[dict] = []  # message bodies accepted by POST /<phone_number_id>/messages
        self.uploads: dict[str, dict] = {}  # media id -> {"content", "mime_type", "filename"}
        self.window_closed: set[str] = set()  # wa_ids whose 24-hour window is over
        self.retry_after = 1

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


def _multipart(content_type: str, body: bytes) -> dict:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields = {}
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()  # UTF-8 names as browsers and httpx send them
        content = part.get_payload(decode=True)
        fields[name] = {"filename": filename, "content": content, "type": part.get_content_type()} if filename \
            else content.decode()
    return fields


def _error(message: str, code: int) -> bytes:
    return json.dumps({"error": {"message": message, "type": "OAuthException", "code": code}}).encode()


class GraphHandler(QuietHandler):
    fake: FakeWhatsAppGraph

    def do_POST(self):  # noqa: N802 — http.server's naming
        fake = self.fake
        fake.requests += 1
        body = self.read_body()
        if fake.fail_next:
            status = fake.fail_next.pop(0)
            if status == 429:
                self.send_response(429)
                payload = _error("(#80007) Rate limit hit", 80007)
                self.send_header("Retry-After", str(fake.retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None
            return self.send_body(status, _error("Temporary failure.", 2))
        if self.headers.get("Authorization", "") != f"Bearer {fake.token}":
            return self.send_body(401, _error("Invalid OAuth access token.", 190))
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        if parts and re.fullmatch(r"v\d+\.\d+", parts[0]):
            parts = parts[1:]
        if len(parts) != 2 or parts[0] not in fake.phone_numbers:
            return self.send_body(404, _error("Unsupported post request.", 100))
        if parts[1] == "media":
            fields = _multipart(self.headers.get("Content-Type", ""), body)
            upload = fields.get("file")
            if fields.get("messaging_product") != "whatsapp" or not isinstance(upload, dict):
                return self.send_body(400, _error("(#100) Param file is required", 100))
            media_id = str(uuid.uuid4().int)[:16]
            with fake.lock:
                fake.uploads[media_id] = {"content": upload["content"], "mime_type": fields.get("type", ""),
                                          "filename": upload["filename"]}
            return self.send_body(200, json.dumps({"id": media_id}).encode())
        if parts[1] != "messages":
            return self.send_body(404, _error("Unsupported post request.", 100))
        message = json.loads(body or b"{}")
        if message.get("messaging_product") != "whatsapp" or not message.get("to"):
            return self.send_body(400, _error("(#100) Invalid parameter", 100))
        if message["to"] in fake.window_closed:
            return self.send_body(400, _error("Re-engagement message", 131047))
        kind = message.get("type")
        if kind == "document" and message.get("document", {}).get("id") not in fake.uploads:
            return self.send_body(400, _error("(#131053) Media upload error", 131053))
        wamid = "wamid." + uuid.uuid4().hex
        with fake.lock:
            fake.sent.append({**message, "id": wamid})
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": message["to"], "wa_id": message["to"]}],
                  "messages": [{"id": wamid}]}
        return self.send_body(200, json.dumps(answer).encode())

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
