"""What other apps may hear from the register without the register knowing them."""

from django.dispatch import Signal

# A new appeal has a topic and a place (sent after the registration commits): dispatch links it to
# an outage it is about. Receivers get `appeal`.
appeal_placed = Signal()

# Events were written to appeals' timelines (inside the step's transaction, before it commits):
# what is derived from the timeline (tsur.analytics' facts) is brought up to date in the same
# transaction. Receivers get `appeal_ids`.
events_recorded = Signal()
