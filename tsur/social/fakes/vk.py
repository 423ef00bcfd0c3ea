"""A fake of the VK API: communities' walls with posts and comments, keyword search, comments from
the community, and VK's errors (6 rate limit, 5 token, 15 deleted post) on demand."""

import itertools
import time

from .base import Drop, FakeNetwork

ERRORS = {
    "rate": (6, "Too many requests per second"),
    "token": (5, "User authorization failed: access_token has expired."),
    "deleted": (15, "Access denied: post was deleted"),
}


class FakeVK(FakeNetwork):
    def __init__(self, token: str = "vk-token"):  # noqa: S107 (the fake's own token)
        super().__init__()
        self.token = token
        self.walls: dict[int, list[dict]] = {}
        self.comments: dict[tuple[int, int], list[dict]] = {}
        self.profiles: dict[int, dict] = {}
        self.groups: dict[int, dict] = {}
        self._ids = itertools.count(1)

    # -- the feed a test or the simulation writes ------------------------------------------------

    def add_community(self, group_id: int, name: str, screen_name: str = "") -> int:
        self.groups[group_id] = {
            "id": group_id,
            "name": name,
            "screen_name": screen_name or f"club{group_id}",
        }
        self.walls.setdefault(-group_id, [])
        return -group_id

    def add_user(self, user_id: int, first_name: str, last_name: str, screen_name: str = "") -> int:
        self.profiles[user_id] = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "screen_name": screen_name or f"id{user_id}",
        }
        return user_id

    def post(
        self, owner_id: int, from_id: int, text: str, *, date: int | None = None, repost_of=None
    ) -> dict:
        with self.lock:
            item = {
                "id": next(self._ids),
                "owner_id": owner_id,
                "from_id": from_id,
                "date": int(date or time.time()),
                "text": text,
                "post_type": "post",
            }
            if repost_of is not None:
                item["copy_history"] = [
                    {k: repost_of[k] for k in ("id", "owner_id", "from_id", "date", "text")}
                ]
            self.walls.setdefault(owner_id, []).append(item)
            return item

    def edit(self, owner_id: int, number: int, text: str, *, date: int | None = None) -> dict:
        with self.lock:
            item = next(p for p in self.walls[owner_id] if p["id"] == number)
            item["text"] = text
            item["edited"] = int(date or time.time())
            return item

    def comment(
        self, owner_id: int, number: int, from_id: int, text: str, *, reply_to: int | None = None
    ) -> dict:
        with self.lock:
            item = {"id": next(self._ids), "from_id": from_id, "date": int(time.time()), "text": text}
            if reply_to:
                item["reply_to_comment"] = reply_to
            self.comments.setdefault((owner_id, number), []).append(item)
            return item

    def delete(self, owner_id: int, number: int) -> None:
        with self.lock:
            self.walls[owner_id] = [p for p in self.walls.get(owner_id, []) if p["id"] != number]
            self.deleted.add(f"{owner_id}_{number}")

    # -- the API -----------------------------------------------------------------------------------

    def handle(self, path, params):
        method = path.rsplit("/", 1)[-1]
        with self.lock:
            self.calls.append((method, dict(params)))
        failure = self.take_failure(method)
        if failure in ("network",):
            raise Drop
        if failure == "server":
            return 502, {"error": "bad gateway"}
        if failure:
            return 200, self._error(*ERRORS[failure], method, params)
        if params.get("access_token") != self.token:
            return 200, self._error(*ERRORS["token"], method, params)
        handler = {
            "wall.get": self._wall_get,
            "newsfeed.search": self._search,
            "wall.getComments": self._get_comments,
            "wall.createComment": self._create_comment,
        }.get(method)
        if handler is None:
            return 200, self._error(3, "Unknown method passed", method, params)
        with self.lock:
            result = handler(params)
        return 200, result if "error" in result else {"response": result}

    def _error(self, code, message, method, params):
        return {
            "error": {
                "error_code": code,
                "error_msg": message,
                "request_params": [{"key": "method", "value": method}]
                + [{"key": k, "value": str(v)} for k, v in params.items() if k != "access_token"],
            }
        }

    def _extended(self, items) -> dict:
        users = {i.get("from_id") for i in items}
        return {
            "profiles": [self.profiles[u] for u in users if u in self.profiles],
            "groups": [
                g
                for g in self.groups.values()
                if -g["id"] in users or -g["id"] in {i.get("owner_id") for i in items}
            ],
        }

    def _wall_get(self, params):
        owner = int(params["owner_id"])
        count = int(params.get("count", 20))
        items = sorted(self.walls.get(owner, []), key=lambda p: -p["id"])[:count]
        return {"count": len(self.walls.get(owner, [])), "items": items, **self._extended(items)}

    def _search(self, params):
        query = (params.get("q") or "").lower()
        start = int(params.get("start_time") or 0)
        found = [
            p
            for wall in self.walls.values()
            for p in wall
            if query and query in p["text"].lower() and p["date"] >= start
        ]
        found.sort(key=lambda p: -p["date"])
        found = found[: int(params.get("count", 30))]
        return {"items": found, "count": len(found), "total_count": len(found), **self._extended(found)}

    def _get_comments(self, params):
        owner, number = int(params["owner_id"]), int(params["post_id"])
        if f"{owner}_{number}" in self.deleted:
            return self._error(*ERRORS["deleted"], "wall.getComments", params)
        start = int(params.get("start_comment_id") or 0)
        items = [c for c in self.comments.get((owner, number), []) if c["id"] >= start]
        return {
            "count": len(items),
            "items": items,
            "current_level_count": len(items),
            **self._extended(items),
        }

    def _create_comment(self, params):
        owner, number = int(params["owner_id"]), int(params["post_id"])
        if f"{owner}_{number}" in self.deleted:
            return self._error(*ERRORS["deleted"], "wall.createComment", params)
        author = -int(params["from_group"]) if params.get("from_group") else 0
        item = {"id": next(self._ids), "from_id": author, "date": int(time.time()), "text": params["message"]}
        if params.get("reply_to_comment"):
            item["reply_to_comment"] = int(params["reply_to_comment"])
        self.comments.setdefault((owner, number), []).append(item)
        return {"comment_id": item["id"], "parents_stack": []}
