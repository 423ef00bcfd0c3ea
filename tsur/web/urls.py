from django.urls import path

from . import dispatch_views as dispatch

app_name = "web"
urlpatterns = [
    path("dispatch/", dispatch.board, name="dispatch-board"),
    path("dispatch/state.json", dispatch.state, name="dispatch-state"),
    path("dispatch/backdrop.json", dispatch.backdrop, name="dispatch-backdrop"),
    path("dispatch/alarms/<int:pk>/acknowledge/", dispatch.acknowledge, name="dispatch-acknowledge"),
    path("dispatch/alarms/<int:pk>/clear/", dispatch.clear, name="dispatch-clear"),
    path("dispatch/outages/<int:pk>/", dispatch.outage_detail, name="dispatch-outage"),
    path("dispatch/outages/<int:pk>/answer/", dispatch.outage_answer, name="dispatch-outage-answer"),
    path("dispatch/outages/<int:pk>/end/", dispatch.outage_end, name="dispatch-outage-end"),
    path("dispatch/outages/<int:pk>/relink/", dispatch.outage_relink, name="dispatch-outage-relink"),
]
