from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from config.api import api
from luma import views as luma_views

urlpatterns = [
    path("", include("chat.urls")),
    path("settings/", luma_views.settings_page, name="settings"),
    path("memory/", include("memories.urls")),
    path("documents/", include("documents.urls")),
    path("overlay/", include("overlay.urls")),
    path("persona/", include("persona.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Pages without Luma's <link rel="icon"> (the admin's) make browsers ask for this.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("luma/favicon.svg"))),
    path("api/", api.urls),
    # OpenAI's Chat Completions API, for other apps (openai_api: bearer tokens only).
    path("v1/", include("openai_api.urls")),
]
