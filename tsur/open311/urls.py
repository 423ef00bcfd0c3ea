from django.urls import re_path

from . import updates, views

FMT = r"\.(?P<fmt>xml|json)$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[\w-]{1,64})" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<number>[0-9]{2}-[0-9]{7,12})" + FMT, views.request_detail, name="request"),
    re_path(r"^servicerequestupdates" + FMT, updates.service_request_updates, name="updates"),
    re_path(r"^tokens/(?P<value>[\w-]{1,64})" + FMT, views.token, name="token"),
]
