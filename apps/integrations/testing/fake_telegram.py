"""A fake Telegram Bot API server: the real JSON protocol, in memory, on 127.0.0.1.

POST/GET /bot<token>/<method> with JSON, urlencoded or multipart parameters → {"ok": true,
"result": ...} or {"ok": false, "error_code", "description"}; files at /file/bot<token>/<path>.
Methods: getMe, setWebhook, deleteWebhook, getWebhookInfo, getUpdates, getFile, sendMessage
(with reply_markup), sendDocument (multipart upload), answerCallbackQuery.
Run standalone (bench, manual tries): python -m apps.integrations.testing.fake_telegram --port 8160 --token T
"""

import argparse
import itertools
import json
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl, unquote, urlsplit

from apps.integrations.testing.fake_http import FakeServer, QuietHandler

MAX_GETFILE_BYTES = 20 * 1024 * 1024


class FakeTelegram(FakeServer):
    def __init__(self, port: int = 0, tokens: dict[str, dict] | None = None):
        self.handler_class = TelegramHandler
        super().__init__(port)
        # token -> bot description (getMe result)
        self.bots: dict[str, dict] = dict(tokens or {})
        self.webhooks: dict[str, dict] = {}
        self.updates: dict[str, list[dict]] = {}
        self.files: dict[str, dict] = {}  # file_id -> {"path", "content", "size"}
        self.sent: list[dict] = []
        self.calls: list[tuple[str, str]] = []  # (method, token) — never printed
        self.documents: list[dict] = []  # sendDocument: {"chat_id", "name", "content"}
        self.answered: list[dict] = []  # answerCallbackQuery: {"callback_query_id", "text"}
        # answer_drop: the next N sendMessage calls are delivered, then the connection is closed
        # without an answer (the request reached Telegram, the answer was lost).
        self.answer_drop = 0
        self.fail_send = False
        # sendMessage answers 429 (with parameters.retry_after) while throttle_until > time.time(),
        # or for the next `throttle_count` calls: Telegram's flood control.
        self.throttle_until = 0.0
        self.throttle_count = 0
        self.retry_after = 1
        self.throttled = 0  # how many 429 were answered
        self.send_delay = 0.0  # seconds each sendMessage takes (kill -9 tests catch a job mid-call)
        # hold_sends: sendMessage waits until release(); drop_held: the held calls then fail without
        # being delivered — a request lost on the way while its worker was killed.
        self.hold_sends = False
        self.drop_held = False
        self.held = 0
        self._release = threading.Event()
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)

    # --- test helpers --------------------------------------------------------------------------
    def add_bot(self, token: str, username: str = "travel_test_bot", bot_id: int = 7000001) -> None:
        self.bots[token] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Travel test",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def add_file(self, content: bytes | None = None, *, size: int | None = None, name: str = "doc.pdf") -> str:
        file_id = "F" + uuid.uuid4().hex
        self.files[file_id] = {
            "path": f"documents/{uuid.uuid4().hex}_{name}",
            "content": content,
            "size": size if size is not None else len(content or b""),
        }
        return file_id

    def queue_update(self, token: str, message: dict) -> dict:
        update = {"update_id": next(self._update_ids), "message": message}
        with self.lock:
            self.updates.setdefault(token, []).append(update)
        return update

    def release(self, *, drop: bool) -> None:
        self.drop_held, self.hold_sends = drop, False
        self._release.set()

    def sent_to(self, chat_id) -> list[dict]:
        return [m for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    # --- protocol ------------------------------------------------------------------------------
    def call(self, token: str, method: str, params: dict) -> tuple[int, dict]:
        self.calls.append((method, token))
        if token not in self.bots:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        handler = getattr(self, "m_" + method.lower(), None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        return handler(token, params)

    @staticmethod
    def ok(result) -> tuple[int, dict]:
        return 200, {"ok": True, "result": result}

    @staticmethod
    def bad(description: str, code: int = 400) -> tuple[int, dict]:
        return code, {"ok": False, "error_code": code, "description": description}

    def m_getme(self, token, params):
        return self.ok(self.bots[token])

    def m_setwebhook(self, token, params):
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            return self.bad("Bad Request: bad webhook: invalid url")
        self.webhooks[token] = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        return self.ok(True)

    def m_deletewebhook(self, token, params):
        self.webhooks.pop(token, None)
        return self.ok(True)

    def m_getwebhookinfo(self, token, params):
        hook = self.webhooks.get(token, {})
        return self.ok({"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0})

    def m_getupdates(self, token, params):
        if token in self.webhooks:
            return self.bad("Conflict: can't use getUpdates method while webhook is active", 409)
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        with self.lock:
            queue = [u for u in self.updates.get(token, []) if u["update_id"] >= offset]
            self.updates[token] = queue  # confirmed updates are forgotten, as Telegram does
        return self.ok(queue[:limit])

    def m_getfile(self, token, params):
        info = self.files.get(str(params.get("file_id", "")))
        if info is None:
            return self.bad("Bad Request: invalid file_id")
        if info["size"] > MAX_GETFILE_BYTES:
            return self.bad("Bad Request: file is too big")
        return self.ok(
            {
                "file_id": params["file_id"],
                "file_unique_id": params["file_id"][:16],
                "file_size": info["size"],
                "file_path": info["path"],
            }
        )

    def m_senddocument(self, token, params):
        if self.fail_send:
            return self.bad("Internal Server Error", 500)
        document = params.get("document")
        if not isinstance(document, dict):
            return self.bad("Bad Request: there is no document in the request")
        with self.lock:
            self.documents.append({"chat_id": params.get("chat_id"), "name": document["filename"],
                                   "content": document["content"]})
        return self.ok({"message_id": next(self._message_ids), "date": int(time.time()),
                        "chat": {"id": int(params["chat_id"]), "type": "private"}, "from": self.bots[token],
                        "document": {"file_name": document["filename"], "file_id": "F" + uuid.uuid4().hex,
                                     "file_unique_id": uuid.uuid4().hex[:16], "file_size": len(document["content"])}})

    def m_answercallbackquery(self, token, params):
        with self.lock:
            self.answered.append({"callback_query_id": params.get("callback_query_id"), "text": params.get("text")})
        return self.ok(True)

    def queue_callback(self, token: str, callback_query: dict) -> dict:
        update = {"update_id": next(self._update_ids), "callback_query": callback_query}
        with self.lock:
            self.updates.setdefault(token, []).append(update)
        return update

    def m_sendmessage(self, token, params):
        if self.fail_send:
            return self.bad("Internal Server Error", 500)
        with self.lock:
            throttle = self.throttle_count > 0 or self.throttle_until > time.time()
            if throttle:
                self.throttle_count = max(0, self.throttle_count - 1)
                self.throttled += 1
        if throttle:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {self.retry_after}",
                "parameters": {"retry_after": self.retry_after},
            }
        if self.send_delay:
            time.sleep(self.send_delay)
        if self.hold_sends:
            with self.lock:
                self.held += 1
            self._release.wait(60)
            if self.drop_held:
                return self.bad("Bad Gateway", 502)
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            return self.bad("Bad Request: chat not found")
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "text": params.get("text", ""),
            "from": self.bots[token],
        }
        markup = params.get("reply_markup")
        with self.lock:
            self.sent.append({"chat_id": chat_id, "text": params.get("text", ""), "token": token,
                              "reply_markup": json.loads(markup) if isinstance(markup, str) else markup})
            drop = self.answer_drop > 0
            self.answer_drop = max(0, self.answer_drop - 1)
        if drop:
            raise ConnectionAbortedError("answer lost")  # the handler closes the connection unanswered
        return self.ok(message)

    def file_content(self, token: str, path: str) -> bytes | None:
        if token not in self.bots:
            return None
        for info in self.files.values():
            if info["path"] == path:
                return info["content"]
        return None


def _params(handler: QuietHandler) -> dict:
    query = dict(parse_qsl(urlsplit(handler.path).query))
    body = handler.read_body()
    content_type = handler.headers.get("Content-Type", "")
    if not body:
        params = {}
    elif content_type.startswith("application/json"):
        params = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        params = {}
        for part in message.get_payload():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()  # UTF-8 names as browsers and httpx send them
            content = part.get_payload(decode=True)
            params[name] = {"filename": filename, "content": content} if filename else content.decode()
    else:
        params = dict(parse_qsl(body.decode()))
    return {**query, **params}


class TelegramHandler(QuietHandler):
    fake: FakeTelegram

    def _dispatch(self):
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            content = self.fake.file_content(token, file_path)
            if content is None:
                return self.send_body(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            return self.send_body(200, content, "application/octet-stream")
        if not path.startswith("/bot") or path.count("/") != 2:
            return self.send_body(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
        token, _, method = path[len("/bot") :].partition("/")
        try:
            status, payload = self.fake.call(token, method, _params(self))
        except ConnectionAbortedError:
            self.close_connection = True
            self.connection.shutdown(2)  # socket.SHUT_RDWR: no answer at all
            return None
        return self.send_body(status, json.dumps(payload).encode())

    do_GET = _dispatch
    do_POST = _dispatch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--token", action="append", default=[])
    args = parser.parse_args()
    fake = FakeTelegram(args.port)
    for index, token in enumerate(args.token):
        fake.add_bot(token, username=f"fake_bot_{index}", bot_id=7000001 + index)
    print(f"fake Telegram Bot API on {fake.url}", flush=True)
    fake.httpd.serve_forever()


if __name__ == "__main__":
    main()
