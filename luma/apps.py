from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LumaConfig(AppConfig):
    name = "luma"
    verbose_name = "Luma"


class LumaAdminConfig(admin_apps.AdminConfig):
    """The admin, open to moderators too (see `luma.admin_site`)."""

    default = False  # named in INSTALLED_APPS; `luma` itself stays LumaConfig
    default_site = "luma.admin_site.LumaAdminSite"
