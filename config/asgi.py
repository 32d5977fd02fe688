"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from memories.embeddings import vector_index_warm_up  # noqa: E402
from overlay.routing import websocket_urlpatterns as overlay_websocket_urlpatterns  # noqa: E402

# The server starts here: vectors load in the background, searches stay lexical until then.
if settings.LUMA_VECTOR_WARM_UP:
    vector_index_warm_up()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + overlay_websocket_urlpatterns))
        ),
    }
)
