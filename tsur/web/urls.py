from django.urls import path, re_path

from . import analytics_views as analytics
from . import appeal_views as appeal
from . import author_views as author
from . import console_views as console
from . import dispatch_views as dispatch
from . import export_views as export
from . import figure_views as figures
from . import hotline_views as hotline
from . import portal_views as portal
from . import report_views as reports
from . import resident_views as resident
from . import shell_views as shell
from . import situation_views as situation
from . import social_views as social
from . import suggest_views as suggest
from . import work_views as work

NUMBER = "<str:number>"
# the author's page: by account, or through the private link whose key is the authority
A_PAGE = rf"^a/{author.NUMBER}/"
A_LINK = rf"^a/{author.NUMBER}/{author.KEY}/"
A_STEP = rf"(?P<name>{author.STEP_NAMES})/$"
A_PHOTO = r"photos/(?P<photo_id>[0-9]{1,12})/$"

app_name = "web"
urlpatterns = [
    path("appeal/new/", portal.new_appeal, name="portal-new"),
    path("appeal/nearby/", portal.nearby, name="portal-nearby"),
    path(f"appeal/join/{NUMBER}/", portal.join, name="portal-join"),
    path("status/", portal.status_lookup, name="portal-status-lookup"),
    path(f"status/{NUMBER}/", portal.status, name="portal-status"),
    path("map/", portal.map_page, name="portal-map"),
    path("map/data.json", portal.map_data, name="portal-map-data"),
    path("map/backdrop.json", portal.map_backdrop, name="portal-map-backdrop"),
    path("overview/", shell.overview, name="overview"),
    path("analytics/", analytics.kpi_table, name="analytics"),
    path("analytics/ratings/", analytics.ratings_page, name="analytics-ratings"),
    path("analytics/complaint-book/", analytics.complaint_book, name="analytics-complaint-book"),
    path("analytics/appeals/", figures.appeals, {"section": "analytics"}, name="analytics-appeals"),
    path("situation/", situation.wall, name="situation"),
    path("situation/data.json", situation.data, name="situation-data"),
    path("situation/appeals/", figures.appeals, {"section": "situation"}, name="situation-appeals"),
    path("analytics/reports/", reports.archive, name="analytics-reports"),
    path("analytics/reports/make/", reports.make, name="analytics-report-make"),
    path("analytics/reports/subscription/", reports.subscribe, name="analytics-report-subscribe"),
    path("analytics/reports/<int:pk>/", reports.detail, name="analytics-report"),
    path("analytics/reports/<int:pk>/pdf/", reports.pdf, name="analytics-report-pdf"),
    path("suggest/addresses/", suggest.addresses, name="suggest-addresses"),
    path("suggest/topics/", suggest.topics, name="suggest-topics"),
    path("console/", console.queue, name="console"),
    path("console/counts/", console.counts, name="console-counts"),
    path("console/bulk-assign/", console.bulk_assign, name="console-bulk-assign"),
    path("console/bulk-redirect/", console.bulk_redirect, name="console-bulk-redirect"),
    path("console/bulk-merge/", console.bulk_merge, name="console-bulk-merge"),
    path("export/appeals.<str:fmt>", export.appeals, name="export-appeals"),
    path("console/new/", hotline.new, name="console-new"),
    path("console/new/similar/", hotline.similar, name="console-new-similar"),
    path(f"console/appeals/{NUMBER}/", appeal.card, {"section": "console"}, name="console-card"),
    path(f"console/appeals/{NUMBER}/<str:name>/", appeal.step, {"section": "console"}, name="console-step"),
    path("social/", social.queue, name="social"),
    path("social/decide/", social.decide, name="social-decide"),
    path(f"social/incidents/{NUMBER}/", social.incident, name="social-incident"),
    path("work/", work.queue, name="work"),
    path("work/bulk-reassign/", work.bulk_reassign, name="work-bulk-reassign"),
    path(f"work/appeals/{NUMBER}/", appeal.card, {"section": "work"}, name="work-card"),
    path(
        f"work/appeals/{NUMBER}/answer-template/",
        appeal.answer_template,
        {"section": "work"},
        name="work-answer-template",
    ),
    path(f"work/appeals/{NUMBER}/<str:name>/", appeal.step, {"section": "work"}, name="work-step"),
    path("my/", resident.my_appeals, name="my"),
    path("my/login/", resident.ask_code, name="resident-login"),
    path("my/login/code/", resident.enter_code, name="resident-code"),
    path("my/login/password/", resident.password_login, name="resident-password"),
    path("my/password/", resident.set_password, name="resident-set-password"),
    re_path(A_PAGE + "$", author.page, name="author-page"),
    re_path(A_PAGE + A_STEP, author.step, name="author-step"),
    re_path(A_PAGE + A_PHOTO, author.photo, name="author-photo"),
    re_path(A_LINK + "$", author.link_page, name="author-link"),
    re_path(A_LINK + A_STEP, author.link_step, name="author-link-step"),
    re_path(A_LINK + A_PHOTO, author.link_photo, name="author-link-photo"),
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
