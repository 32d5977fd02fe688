from django.apps import AppConfig


class OverlayConfig(AppConfig):
    name = "overlay"
    verbose_name = "On stream"

    def ready(self) -> None:
        from chat.services import reply_observer_add
        from overlay.publisher import OverlayPublisher

        reply_observer_add(OverlayPublisher)
