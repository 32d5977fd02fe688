from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt


@never_cache
@xframe_options_exempt
def overlay_page(request: HttpRequest) -> HttpResponse:
    """The OBS browser source. The same page whatever the token: the page's script opens
    the overlay socket with the token in the URL, and only that socket checks it, so a
    wrong token shows a blank page and tells nothing."""
    response = render(request, "overlay/overlay.html")
    response["Referrer-Policy"] = "no-referrer"  # the token stays out of other servers' logs
    return response
