"""A fake of the OK group API (`fb.do`): group topics, their discussion comments, a comment as the
group, and OK's errors (1100 over the limit, 102 session expired, 300 not found) on demand."""

import itertools
import time

from .base import Drop, FakeNetwork

ERRORS = {
    "rate": (1100, "LIMIT_REACHED : Too many requests"),
    "token": (102, "PARAM_SESSION_EXPIRED : Session expired"),
    "deleted": (300, "NOT_FOUND : Topic not found"),
}


class FakeOK(FakeNetwork):
    def __init__(self, token: str = "ok-token"):  # noqa: S107 (the fake's own token)
        super().__init__()
        self.token = token
        self.groups: dict[str, list[dict]] = {}
        self.users: dict[str, dict] = {}
        self.comments: dict[str, list[dict]] = {}
        self._ids = itertools.count(5000)

    def add_group(self, gid: str) -> str:
        self.groups.setdefault(str(gid), [])
        return str(gid)

    def add_user(self, uid: str, name: str) -> str:
        self.users[str(uid)] = {"uid": str(uid), "ref": f"user:{uid}", "name": name}
        return str(uid)

    def topic(self, gid, uid, text: str, *, created_ms: int | None = None, reshare_of: str = "") -> dict:
        with self.lock:
            item = {
                "id": str(next(self._ids)),
                "author_ref": f"user:{uid}",
                "created_ms": int(created_ms or time.time() * 1000),
                "media": [{"type": "text", "text": text}],
            }
            if reshare_of:
                item["reshare_of"] = reshare_of
            self.groups[str(gid)].append(item)
            return item

    def comment(self, topic_id: str, uid, text: str, *, reply_to: str | None = None) -> dict:
        with self.lock:
            user = self.users.get(str(uid), {})
            item = {
                "id": str(next(self._ids)),
                "author_id": str(uid),
                "author_name": user.get("name", ""),
                "date_ms": int(time.time() * 1000),
                "text": text,
            }
            if reply_to:
                item["reply_to_comment_id"] = reply_to
            self.comments.setdefault(topic_id, []).append(item)
            return item

    def delete(self, gid, topic_id: str) -> None:
        with self.lock:
            self.groups[str(gid)] = [t for t in self.groups[str(gid)] if t["id"] != topic_id]
            self.deleted.add(topic_id)

    def handle(self, path, params):
        method = params.get("method", "")
        with self.lock:
            self.calls.append((method, dict(params)))
        failure = self.take_failure(method)
        if failure == "network":
            raise Drop
        if failure == "server":
            return 503, {"error_code": 1, "error_msg": "UNKNOWN : Service unavailable"}
        if failure:
            return 200, self._error(*ERRORS[failure])
        if params.get("access_token") != self.token:
            return 200, self._error(*ERRORS["token"])
        with self.lock:
            if method == "mediatopic.getTopics":
                topics = self.groups.get(str(params["gid"]), [])
                anchor = int(params.get("anchor") or 0)
                found = [t for t in topics if int(t["id"]) > anchor][: int(params.get("count") or 20)]
                refs = {t["author_ref"] for t in found}
                return 200, {
                    "media_topics": found,
                    "entities": {"users": [u for u in self.users.values() if u["ref"] in refs]},
                    "anchor": found[-1]["id"] if found else params.get("anchor") or "",
                    "has_more": False,
                }
            if method == "discussions.getDiscussionComments":
                topic = params["discussionId"]
                if topic in self.deleted:
                    return 200, self._error(*ERRORS["deleted"])
                anchor = int(params.get("anchor") or 0)
                found = [c for c in self.comments.get(topic, []) if int(c["id"]) > anchor]
                return 200, {
                    "comments": found,
                    "anchor": found[-1]["id"] if found else params.get("anchor") or "",
                }
            if method == "discussions.comment":
                topic = params["discussionId"]
                if topic in self.deleted:
                    return 200, self._error(*ERRORS["deleted"])
                item = self.comment(
                    topic, "group", params["text"], reply_to=params.get("reply_to_comment_id")
                )
                return 200, {"comment_id": item["id"]}
        return 200, self._error(3, "METHOD : Method not found")

    @staticmethod
    def _error(code, message):
        return {"error_code": code, "error_msg": message, "error_data": None}
