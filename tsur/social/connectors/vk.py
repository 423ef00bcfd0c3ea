"""VK API (https://dev.vk.com/method): `newsfeed.search` by the watch-list's keywords, `wall.get` of
the watched communities, `wall.getComments` of the threads the center follows, and
`wall.createComment` from the official community (`from_group`). Answers are
{"response": …} or {"error": {"error_code": N, "error_msg": …}}; codes 6, 9 and 29 are rate limits,
5 an invalid or expired token, 15/100 with «deleted» a post that is gone, anything else a refusal."""

from datetime import UTC, datetime

from .base import Batch, Connector, Item, NetworkDown, PostDeleted, RateLimited, Refused, Target, TokenExpired

VERSION = "5.199"
RATE_CODES = {6, 9, 29}


def _at(timestamp) -> datetime:
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def post_id(owner_id, number) -> str:
    return f"wall{owner_id}_{number}"


def split_post_id(external_id: str) -> tuple[str, str]:
    owner, _, number = external_id.removeprefix("wall").partition("_")
    return owner, number.split("_c")[0]


class VKConnector(Connector):
    network = "vk"

    def method(self, name: str, **params) -> dict:
        def once():
            response = self.http(
                "POST",
                f"{self.base_url}/method/{name}",
                data={**params, "access_token": self.token, "v": VERSION},
            )
            body = self.json_of(response)
            if "error" in body:
                error = body["error"]
                code, message = int(error.get("error_code", 0)), str(error.get("error_msg", ""))
                if code in RATE_CODES:
                    raise RateLimited(f"VK {code}: {message}")
                if code == 5:
                    raise TokenExpired(f"VK {code}: {message}")
                if code in (15, 100) and "delet" in message.lower():
                    raise PostDeleted(f"VK {code}: {message}")
                if code == 10:
                    raise NetworkDown(f"VK {code}: {message}")
                raise Refused(f"VK {code}: {message}")
            if "response" not in body:
                raise NetworkDown("VK: an answer with neither response nor error")
            return body["response"]

        return self.call(once)

    @staticmethod
    def _names(response: dict) -> dict[int, tuple[str, str]]:
        names = {}
        for profile in response.get("profiles") or []:
            full = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
            names[int(profile["id"])] = (profile.get("screen_name") or f"id{profile['id']}", full)
        for group in response.get("groups") or []:
            names[-int(group["id"])] = (
                group.get("screen_name") or f"club{group['id']}",
                group.get("name", ""),
            )
        return names

    def _post(self, raw: dict, names: dict) -> Item:
        owner = int(raw["owner_id"])
        author = int(raw.get("from_id") or owner)
        handle, name = names.get(author, (f"id{author}", ""))
        repost = ""
        if raw.get("copy_history"):
            original = raw["copy_history"][0]
            repost = post_id(original["owner_id"], original["id"])
        return Item(
            external_id=post_id(owner, raw["id"]),
            text=raw.get("text") or "",
            posted_at=_at(raw["date"]),
            community=str(owner),
            author_handle=handle,
            author_name=name,
            link=f"https://vk.com/wall{owner}_{raw['id']}",
            edited_at=_at(raw["edited"]) if raw.get("edited") else None,
            repost_of=repost,
            raw=raw,
        )

    def fetch(self, cursor: dict, follow: list[Target] = ()) -> Batch:
        cursor = {"walls": {}, "search_since": 0, "comments": {}, **(cursor or {})}
        items: list[Item] = []
        since = int(cursor["search_since"])
        newest = since
        for owner in self.communities:
            last = int(cursor["walls"].get(str(owner), 0))
            response = self.method("wall.get", owner_id=owner, count=100, extended=1)
            names = self._names(response)
            for raw in response.get("items") or []:
                edited_since = int(raw.get("edited") or 0) > since
                if int(raw["id"]) > last or edited_since:
                    items.append(self._post(raw, names))
                newest = max(newest, int(raw.get("edited") or raw["date"]))
            ids = [int(raw["id"]) for raw in response.get("items") or []]
            cursor["walls"][str(owner)] = max([last, *ids])
        for keyword in self.keywords:
            response = self.method(
                "newsfeed.search", q=keyword, start_time=since + 1 if since else 0, count=200, extended=1
            )
            names = self._names(response)
            for raw in response.get("items") or []:
                items.append(self._post(raw, names))
                newest = max(newest, int(raw["date"]))
        for target in follow:
            owner, number = split_post_id(target.external_id)
            key = f"{owner}_{number}"
            last = int(cursor["comments"].get(key, 0))
            response = self.method(
                "wall.getComments",
                owner_id=owner,
                post_id=number,
                start_comment_id=last or "",
                count=100,
                extended=1,
            )
            names = self._names(response)
            for raw in response.get("items") or []:
                if int(raw["id"]) <= last:
                    continue
                author = int(raw.get("from_id") or 0)
                handle, name = names.get(author, (f"id{author}", ""))
                reply_to = raw.get("reply_to_comment")
                items.append(
                    Item(
                        external_id=f"{post_id(owner, number)}_c{raw['id']}",
                        kind="comment",
                        text=raw.get("text") or "",
                        posted_at=_at(raw["date"]),
                        community=str(owner),
                        author_handle=handle,
                        author_name=name,
                        link=f"https://vk.com/wall{owner}_{number}?reply={raw['id']}",
                        parent_id=post_id(owner, number),
                        reply_to=f"{post_id(owner, number)}_c{reply_to}" if reply_to else "",
                        raw=raw,
                    )
                )
                last = max(last, int(raw["id"]))
            cursor["comments"][key] = last
        cursor["search_since"] = newest
        return Batch(items, cursor)

    def reply(self, target: Target, text: str) -> str:
        owner, number = split_post_id(target.parent_id or target.external_id)
        params = {"owner_id": owner, "post_id": number, "message": text}
        if self.account:
            params["from_group"] = self.account.lstrip("-")
        if target.parent_id:  # answering a comment: in its thread
            params["reply_to_comment"] = target.external_id.rsplit("_c", 1)[1]
        response = self.method("wall.createComment", **params)
        return f"{post_id(owner, number)}_c{response['comment_id']}"
