from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from luma.forms import RuntimeSettingsForm
from luma.roles import Role, page_role_required
from luma.services import InvalidSettings, runtime_settings_get, runtime_settings_update


@page_role_required(Role.OWNER, action="change the settings")
def settings_page(request: HttpRequest) -> HttpResponse:
    row = runtime_settings_get()
    form = RuntimeSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        try:
            runtime_settings_update(**form.changes())
        except InvalidSettings as error:
            for field, problems in error.errors.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Settings saved.")
            return redirect("settings")
    row.refresh_from_db()
    return render(request, "luma/settings.html", {"form": form, "row": row})
