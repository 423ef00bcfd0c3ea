"""What other apps may hear from the register without the register knowing them."""

from django.dispatch import Signal

# A new appeal has a topic and a place (sent after the registration commits): dispatch links it to
# an outage it is about. Receivers get `appeal`.
appeal_placed = Signal()
