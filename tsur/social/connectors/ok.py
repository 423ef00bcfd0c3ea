"""OK (Одноклассники) REST API (https://apiok.ru), group calls only: `mediatopic.getTopics` of the
watched groups, `discussions.getDiscussionComments` of the threads the center follows, and
`discussions.comment` as the group (`as_admin`). Calls go to `<base>/fb.do?method=…` with the
application key and the session token; errors are {"error_code": N, "error_msg": …}: 102
(PARAM_SESSION_EXPIRED) and 103 an expired session, 300 (NOT_FOUND) a topic that is gone,
9 and 1100 over the limit (as this project's fake answers them; check the codes against a region's
application before production), anything else a refusal."""

from datetime import UTC, datetime

from .base import Batch, Connector, Item, NetworkDown, PostDeleted, RateLimited, Refused, Target, TokenExpired

RATE_CODES = {9, 1100}


def topic_id(group, number) -> str:
    return f"ok{group}_{number}"


def split_topic_id(external_id: str) -> tuple[str, str]:
    group, _, number = external_id.removeprefix("ok").partition("_")
    return group, number.split("_c")[0]


def _at(ms) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


class OKConnector(Connector):
    network = "ok"

    def method(self, name: str, **params) -> dict:
        def once():
            response = self.http(
                "POST",
                f"{self.base_url}/fb.do",
                data={**params, "method": name, "access_token": self.token, "format": "json"},
            )
            body = self.json_of(response)
            if isinstance(body, dict) and "error_code" in body:
                code, message = int(body["error_code"]), str(body.get("error_msg", ""))
                if code in RATE_CODES:
                    raise RateLimited(f"OK {code}: {message}")
                if code in (102, 103):
                    raise TokenExpired(f"OK {code}: {message}")
                if code == 300:
                    raise PostDeleted(f"OK {code}: {message}")
                if code == 1:
                    raise NetworkDown(f"OK {code}: {message}")
                raise Refused(f"OK {code}: {message}")
            return body

        return self.call(once)

    def fetch(self, cursor: dict, follow: list[Target] = ()) -> Batch:
        cursor = {"groups": {}, "comments": {}, **(cursor or {})}
        items = []
        for group in self.communities:
            anchor = cursor["groups"].get(str(group), "")
            response = self.method(
                "mediatopic.getTopics", gid=group, anchor=anchor, direction="AFTER", count=100
            )
            users = {u["ref"]: u for u in (response.get("entities") or {}).get("users") or []}
            for raw in response.get("media_topics") or []:
                text = " ".join(m.get("text", "") for m in raw.get("media") or [] if m.get("type") == "text")
                author = users.get(raw.get("author_ref")) or {}
                items.append(
                    Item(
                        external_id=topic_id(group, raw["id"]),
                        text=text,
                        posted_at=_at(raw["created_ms"]),
                        community=str(group),
                        author_handle=str(author.get("uid") or ""),
                        author_name=author.get("name", ""),
                        link=f"https://ok.ru/group/{group}/topic/{raw['id']}",
                        edited_at=_at(raw["edited_ms"]) if raw.get("edited_ms") else None,
                        repost_of=raw.get("reshare_of") or "",
                        raw=raw,
                    )
                )
            if response.get("anchor"):
                cursor["groups"][str(group)] = response["anchor"]
        for target in follow:
            group, number = split_topic_id(target.external_id)
            key = f"{group}_{number}"
            response = self.method(
                "discussions.getDiscussionComments",
                discussionId=number,
                discussionType="GROUP_TOPIC",
                anchor=cursor["comments"].get(key, ""),
                direction="AFTER",
            )
            for raw in response.get("comments") or []:
                parent = topic_id(group, number)
                items.append(
                    Item(
                        external_id=f"{parent}_c{raw['id']}",
                        kind="comment",
                        text=raw.get("text") or "",
                        posted_at=_at(raw["date_ms"]),
                        community=str(group),
                        author_handle=str(raw.get("author_id") or ""),
                        author_name=raw.get("author_name", ""),
                        link=f"https://ok.ru/group/{group}/topic/{number}",
                        parent_id=parent,
                        reply_to=f"{parent}_c{raw['reply_to_comment_id']}"
                        if raw.get("reply_to_comment_id")
                        else "",
                        raw=raw,
                    )
                )
            if response.get("anchor"):
                cursor["comments"][key] = response["anchor"]
        return Batch(items, cursor)

    def reply(self, target: Target, text: str) -> str:
        group, number = split_topic_id(target.parent_id or target.external_id)
        params = {"discussionId": number, "discussionType": "GROUP_TOPIC", "text": text, "as_admin": "true"}
        if target.parent_id:
            params["reply_to_comment_id"] = target.external_id.rsplit("_c", 1)[1]
        response = self.method("discussions.comment", **params)
        return f"{topic_id(group, number)}_c{response['comment_id']}"
