from django.apps import AppConfig


class LumaConfig(AppConfig):
    name = "luma"
    verbose_name = "Luma"
