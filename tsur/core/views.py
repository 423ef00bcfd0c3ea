from django.conf import settings
from django.shortcuts import render


def home(request):
    return render(request, "core/home.html", {"region": settings.TSUR["REGION_NAME"]})
