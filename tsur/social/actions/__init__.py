"""Every change social monitoring makes goes through a function here.

ingest     ingest (posts found → deduplicated, triaged, merged into incidents), decide (moderator)
incidents  open_incident, attach (a post joins an incident), react (a resident's comment under
           the official reply: «не сделано» reopens the incident)
replies    publish (an answer of an incident becomes a reply under each of its posts), deliver
           (post the replies due, with retries; the outcome on the incident's timeline)
polling    poll (a source read since its cursor, back-off on failure)
"""

from .incidents import attach, open_incident, react
from .ingest import IngestReport, decide, ingest
from .polling import poll, poll_all
from .replies import deliver, publish

__all__ = [
    "IngestReport",
    "attach",
    "decide",
    "deliver",
    "ingest",
    "open_incident",
    "poll",
    "poll_all",
    "publish",
    "react",
]
