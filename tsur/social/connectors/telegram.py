"""Telegram Bot API (https://core.telegram.org/bots/api): the region's bot, added to city chats,
reads their messages with `getUpdates` (privacy mode off, or the bot an admin) and answers in the
thread with `sendMessage` and `reply_to_message_id`. Answers are {"ok": true, "result": …} or
{"ok": false, "error_code": N, "description": …}: 429 (with `parameters.retry_after`) a rate limit,
401 an invalid token, 400 «message to be replied not found» a message that is gone."""

from datetime import UTC, datetime

from .base import Batch, Connector, Item, NetworkDown, PostDeleted, RateLimited, Refused, Target, TokenExpired


def message_id(chat_id, number) -> str:
    return f"tg{chat_id}_{number}"


def split_message_id(external_id: str) -> tuple[str, str]:
    chat, _, number = external_id.removeprefix("tg").rpartition("_")
    return chat, number


class TelegramConnector(Connector):
    network = "telegram"

    def method(self, name: str, **params) -> dict | list:
        def once():
            response = self.http("POST", f"{self.base_url}/bot{self.token}/{name}", json=params)
            body = self.json_of(response)
            if body.get("ok"):
                return body.get("result")
            code, description = (
                int(body.get("error_code") or response.status_code),
                str(body.get("description", "")),
            )
            if code == 429:
                retry = (body.get("parameters") or {}).get("retry_after")
                raise RateLimited(
                    f"Telegram {code}: {description}", retry_after=float(retry) if retry else None
                )
            if code == 401:
                raise TokenExpired(f"Telegram {code}: {description}")
            if code == 400 and "not found" in description.lower():
                raise PostDeleted(f"Telegram {code}: {description}")
            if code >= 500:
                raise NetworkDown(f"Telegram {code}: {description}")
            raise Refused(f"Telegram {code}: {description}")

        return self.call(once)

    def fetch(self, cursor: dict, follow: list[Target] = ()) -> Batch:
        offset = int((cursor or {}).get("offset", 0))
        updates = self.method(
            "getUpdates", offset=offset, timeout=0, allowed_updates=["message", "edited_message"]
        )
        items = []
        watched = {str(c) for c in self.communities}
        for update in updates or []:
            offset = max(offset, int(update["update_id"]) + 1)
            message = update.get("message") or update.get("edited_message")
            if not message or not message.get("text"):
                continue
            chat = message["chat"]
            if watched and str(chat["id"]) not in watched and (chat.get("username") or "") not in watched:
                continue
            sender = message.get("from") or {}
            name = f"{sender.get('first_name', '')} {sender.get('last_name', '')}".strip()
            parent = message.get("reply_to_message")
            edited = message.get("edit_date")
            link = f"https://t.me/{chat['username']}/{message['message_id']}" if chat.get("username") else ""
            items.append(
                Item(
                    external_id=message_id(chat["id"], message["message_id"]),
                    kind="comment" if parent else "post",
                    text=message["text"],
                    posted_at=datetime.fromtimestamp(int(message["date"]), tz=UTC),
                    community=str(chat["id"]),
                    author_handle=sender.get("username")
                    or (f"user{sender['id']}" if sender.get("id") else ""),
                    author_name=name,
                    link=link,
                    reply_to=message_id(chat["id"], parent["message_id"]) if parent else "",
                    edited_at=datetime.fromtimestamp(int(edited), tz=UTC) if edited else None,
                    repost_of=(
                        message_id(message["forward_from_chat"]["id"], message["forward_from_message_id"])
                        if message.get("forward_from_chat") and message.get("forward_from_message_id")
                        else ""
                    ),
                    raw=update,
                )
            )
        return Batch(items, {"offset": offset})

    def reply(self, target: Target, text: str) -> str:
        chat, number = split_message_id(target.external_id)
        result = self.method(
            "sendMessage",
            chat_id=chat,
            text=text,
            reply_to_message_id=int(number),
            allow_sending_without_reply=False,
        )
        return message_id(chat, result["message_id"])
