"""Settings for the live server the browser tests start: the test settings, plus
static files served straight from the source folders (no collectstatic)."""

from config.test_settings import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
