"""HTTP telemetry: a controller posts a batch of its readings with its own token.

    POST /api/v1/telemetry/   Authorization: Device <token>
    {"readings": [{"metric": "t_supply", "value": 71.5, "unit": "°C", "at": "2026-11-23T10:00:00+03:00"}, …]}

202 with {"accepted": n, "rejected": [{"index", "reason", "detail"}]}; 401 for an unknown token,
400 for a body that is not such JSON, 413 for more than 1 MB or 5,000 readings. Every refusal is
counted (admin: «Отклонённые показания»).
"""

from collections import Counter

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import ingest
from .choices import RejectReason
from .models import Device


def _refuse(status: int, detail: str, reason: str, device_code: str = "", count: int = 1) -> JsonResponse:
    ingest.count_rejections(Counter({reason: count}), device_code)
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
@require_POST
def telemetry(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    device = Device.by_token(token.strip()) if scheme.lower() == "device" else None
    if device is None:
        return _refuse(
            401, "Unknown device: send «Authorization: Device <token>».", RejectReason.UNKNOWN_DEVICE
        )
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > ingest.MAX_BYTES:
        return _refuse(413, "At most 1 MB per batch.", RejectReason.MALFORMED, device.code)
    readings = ingest.decode(request.body[: ingest.MAX_BYTES + 1])
    if readings is None:
        return _refuse(
            400, 'The body must be JSON: {"readings": [...]}.', RejectReason.MALFORMED, device.code
        )
    if len(readings) > ingest.MAX_BATCH:
        return _refuse(
            413,
            f"At most {ingest.MAX_BATCH} readings per batch.",
            RejectReason.MALFORMED,
            device.code,
            len(readings),
        )
    outcome = ingest.accept(device, readings)
    return JsonResponse({"accepted": outcome.accepted, "rejected": outcome.rejected}, status=202)
