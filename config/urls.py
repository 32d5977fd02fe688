from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api
from luma import views as luma_views

urlpatterns = [
    path("", include("chat.urls")),
    path("settings/", luma_views.settings_page, name="settings"),
    path("memory/", include("memories.urls")),
    path("documents/", include("documents.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
