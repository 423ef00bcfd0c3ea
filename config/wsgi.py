import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm_up():
    """Load the text model and its dictionaries while the worker waits for its first request,
    so the first appeal filed is not the one that pays for it."""
    from tsur.nlp import understanding

    model = understanding.current_model()
    if model is not None:
        from tsur.nlp.features import Example

        model.predict([Example("Не горит фонарь у дома", {})])


threading.Thread(target=_warm_up, name="tsur-warm-up", daemon=True).start()
