"""A fake of the Telegram Bot API: chats the bot is in, their messages as updates (`getUpdates`
with an offset), `sendMessage` in reply to a message, and Telegram's errors (429 with retry_after,
401, 400 «message to be replied not found») on demand."""

import itertools
import time

from .base import Drop, FakeNetwork

ERRORS = {
    "rate": (429, "Too Many Requests: retry after 1", {"retry_after": 1}),
    "token": (401, "Unauthorized", None),
    "deleted": (400, "Bad Request: message to be replied not found", None),
}


class FakeTelegram(FakeNetwork):
    def __init__(self, token: str = "123:tg-token", bot_id: int = 777, bot_username: str = "tsur_bot"):  # noqa: S107 (the fake's own token)
        super().__init__()
        self.token = token
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "ЦУР", "username": bot_username}
        self.chats: dict[int, dict] = {}
        self.updates: list[dict] = []
        self.messages: dict[tuple[int, int], dict] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)

    def add_chat(self, chat_id: int, title: str, username: str = "") -> int:
        self.chats[chat_id] = {
            "id": chat_id,
            "title": title,
            "type": "supergroup",
            **({"username": username} if username else {}),
        }
        return chat_id

    def say(
        self, chat_id, user: dict, text: str, *, reply_to: int | None = None, date: int | None = None
    ) -> dict:
        with self.lock:
            message = {
                "message_id": next(self._message_ids),
                "from": {"is_bot": False, **user},
                "chat": self.chats[chat_id],
                "date": int(date or time.time()),
                "text": text,
            }
            if reply_to is not None:
                message["reply_to_message"] = self.messages[(chat_id, reply_to)]
            self.messages[(chat_id, message["message_id"])] = message
            self.updates.append({"update_id": next(self._update_ids), "message": message})
            return message

    def edit(self, chat_id, number: int, text: str) -> dict:
        with self.lock:
            message = dict(self.messages[(chat_id, number)], text=text, edit_date=int(time.time()))
            self.messages[(chat_id, number)] = message
            self.updates.append({"update_id": next(self._update_ids), "edited_message": message})
            return message

    def delete(self, chat_id, number: int) -> None:
        with self.lock:
            self.messages.pop((chat_id, number), None)
            self.deleted.add(f"{chat_id}_{number}")

    def handle(self, path, params):
        _bot, _, method = path.strip("/").partition("/")
        with self.lock:
            self.calls.append((method, dict(params)))
        failure = self.take_failure(method)
        if failure == "network":
            raise Drop
        if failure == "server":
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        if failure:
            return self._error(*ERRORS[failure])
        if _bot != f"bot{self.token}":
            return self._error(*ERRORS["token"])
        if method == "getMe":
            return 200, {"ok": True, "result": self.bot}
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self.lock:
                found = [u for u in self.updates if u["update_id"] >= offset][
                    : int(params.get("limit") or 100)
                ]
            return 200, {"ok": True, "result": found}
        if method == "sendMessage":
            chat, reply_to = int(params["chat_id"]), params.get("reply_to_message_id")
            with self.lock:
                if reply_to is not None and (chat, int(reply_to)) not in self.messages:
                    return self._error(*ERRORS["deleted"])
                message = {
                    "message_id": next(self._message_ids),
                    "from": self.bot,
                    "chat": self.chats[chat],
                    "date": int(time.time()),
                    "text": params["text"],
                }
                if reply_to is not None:
                    message["reply_to_message"] = self.messages[(chat, int(reply_to))]
                self.messages[(chat, message["message_id"])] = message
            return 200, {"ok": True, "result": message}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    @staticmethod
    def _error(code, description, parameters):
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, body
