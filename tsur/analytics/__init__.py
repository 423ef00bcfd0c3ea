"""The situational center's figures: KPIs derived from the timeline, ratings, anomalies, reports, exports."""
