"""The rubricator (blocks → topics with deadline regulation): loaded from a JSON file, idempotently,
and remembered in each process for the intake, which looks a topic up by its code on every filing."""

import json
from pathlib import Path

from django.db import transaction

from tsur.core.memo import Remembered

from .models import ThematicBlock, Topic

DEFAULT = Path(__file__).with_name("data") / "rubricator.json"
TOPICS_TTL_S = 30.0

# Active topics with their blocks by code, read at most every TOPICS_TTL_S per process; a change
# of the rubricator in this process is seen at once (`remembered.changed`, connected in apps.py).
remembered = Remembered(
    lambda: {t.code: t for t in Topic.objects.filter(is_active=True).select_related("block")}, TOPICS_TTL_S
)
topics_by_code = remembered.get


@transaction.atomic
def load(path: Path = DEFAULT) -> tuple[int, int]:
    """Create or update every block and topic of the file by code; returns (blocks, topics)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    blocks = topics = 0
    for block_data in document["blocks"]:
        block, _ = ThematicBlock.objects.update_or_create(
            code=block_data["code"],
            defaults={"name": block_data["name"], "order": block_data.get("order", 100)},
        )
        blocks += 1
        for t in block_data["topics"]:
            first_amount, first_unit = t["first_response"]
            amount, unit = t["resolution"]
            Topic.objects.update_or_create(
                code=t["code"],
                defaults={
                    "block": block,
                    "name": t["name"],
                    "first_response_amount": first_amount,
                    "first_response_unit": first_unit,
                    "resolution_amount": amount,
                    "resolution_unit": unit,
                    "priority": t.get("priority", "normal"),
                    "complaint_book": t.get("complaint_book", False),
                    "place_kinds": t.get("place_kinds", []),
                    "keywords": t.get("keywords", []),
                },
            )
            topics += 1
    return blocks, topics
